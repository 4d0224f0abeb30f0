//! gRPC authentication: an interceptor in front of `callsense.v1.CallSense`
//! (and of reflection when `auth.reflection = "authenticated"`) that turns
//! the `authorization` metadata and the client certificate into a
//! [`Caller`] on the request, or refuses with UNAUTHENTICATED /
//! PERMISSION_DENIED. Health is not intercepted.

use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

use super::service::auth_status;
use crate::auth::{cert, Auth, AuthError, Door, Presented, Scope};
use crate::calls::Caller;

/// The interceptor; cheap to clone.
#[derive(Clone)]
pub struct Authenticate {
    pub auth: Arc<Auth>,
}

impl Interceptor for Authenticate {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let peer = req.remote_addr().map(|a| a.to_string()).unwrap_or_default();
        let refuse = |e: AuthError| {
            self.auth.denied(Door::Grpc, &e, &peer, "connect");
            Err(auth_status(&e))
        };
        let cert_tenant = match (self.auth.mtls(), req.peer_certs()) {
            (Some(m), Some(certs)) => match certs.first() {
                Some(c) => match cert::tenant_of(c, m.tenant_from) {
                    Ok(t) => Some(t),
                    Err(e) => return refuse(AuthError::unauthenticated(e, "bad_certificate")),
                },
                None => None,
            },
            _ => None,
        };
        let authorization = match req.metadata().get("authorization") {
            Some(v) => match v.to_str() {
                Ok(s) => Some(s.to_string()),
                Err(_) => {
                    return refuse(AuthError::unauthenticated(
                        "authorization metadata is not text",
                        "bad_authorization",
                    ))
                }
            },
            None => None,
        };
        let presented = Presented {
            authorization: authorization.as_deref(),
            cert_tenant: cert_tenant.as_deref(),
        };
        match self
            .auth
            .authenticate_or_anonymous(Door::Grpc, presented, Scope::Calls)
        {
            Ok(principal) => {
                req.extensions_mut().insert(Caller {
                    principal,
                    door: Door::Grpc,
                    peer,
                });
                Ok(req)
            }
            Err(e) => refuse(e),
        }
    }
}
