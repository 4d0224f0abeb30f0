#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/corpus/<target>/): one or a few
valid inputs per target, so libFuzzer starts from the formats' real shapes.
Run from fuzz/: python3 seeds/make_seeds.py"""
import json, os, struct, hashlib

def put(target, name, data):
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload

def s(num, text):
    return field(num, 2, text.encode())

config = (s(1, "call-1") + s(2, "acme") + s(3, "C-7") + field(4, 0, 2) + field(5, 0, 8000)
          + field(6, 0, 2) + field(7, 2, bytes([1, 2])) + s(8, "en")
          + field(10, 2, s(1, "callsense.callback_url") + s(2, "https://acme.example/cb"))
          + s(12, "Premium Plus"))
put("grpc_request", "config", field(1, 2, config))
put("grpc_request", "audio", field(2, 2, bytes(range(160))))
put("grpc_request", "disposition", field(3, 2, s(1, "resolved")))

put("audio_decode", "mulaw_mono", bytes([1]) + bytes(range(256)))
put("audio_decode", "linear16_stereo", bytes([0x80]) + struct.pack("<8h", 0, 1000, -1000, 32767, -32768, 5, 6, 7))
put("interleave", "two_legs", bytes([0, 20, 0, 0]) + bytes(20) + bytes([1, 21, 5, 0]) + bytes(20))

sid = "8d1b3c0e-2f5a-4c1e-9d7b-0a6f5e4d3c2b"
def ah(kind, seq, params):
    return json.dumps({"version": "2", "type": kind, "id": sid, "seq": seq, "serverseq": 0,
                       "position": "PT0S", "parameters": params})
open_params = {"organizationId": "56e6a4b1-1c2b-4b5c-9d8e-0123456789ab",
               "conversationId": "009b3c4d-1c2b-4b5c-9d8e-0123456789ab",
               "participant": {"id": "e625a1b2-1c2b-4b5c-9d8e-0123456789ab", "ani": "+1-555-555-1234",
                               "aniName": "John Doe", "dnis": "+1-800-555-6789"},
               "media": [{"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000}],
               "customConfig": {"customer_id": "C-1042"}, "language": "en-US"}
put("audiohook_message", "session", "\n".join([
    ah("open", 1, open_params), ah("ping", 2, {}), ah("paused", 3, {}), ah("resumed", 4, {}),
    ah("close", 5, {"reason": "end"})]))
put("audiohook_signature", "reference",
    'sig1=("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" '
    '"audiohook-correlation-id" "x-api-key");keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";'
    'nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";alg="hmac-sha256";created=1641013200;expires=3282026430\n'
    'sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:')

tw_start = {"event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
            "start": {"accountSid": "AC1", "streamSid": "MZ1", "callSid": "CA1",
                      "tracks": ["inbound", "outbound"],
                      "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                      "customParameters": {"tenant": "acme", "customer_id": "C-1"}}}
media = lambda track, n: json.dumps({"event": "media", "sequenceNumber": str(n), "streamSid": "MZ1",
    "media": {"track": track, "chunk": str(n), "timestamp": str(n * 20), "payload": "//////////8="}})
put("twilio_message", "call", "\n".join([json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
    json.dumps(tw_start), media("inbound", 2), media("outbound", 3), json.dumps({"event": "stop", "sequenceNumber": "4"})]))

put("fork_metadata", "freeswitch", json.dumps({"uuid": "8d1b3c0e", "from": "+15550100", "tenant": "acme", "mixType": "stereo", "sampleRate": 16000}))
put("fork_metadata", "jambonz", json.dumps({"callSid": "jb-1", "mixType": "mono", "sampleRate": 64000, "customer_id": "C-7"}))

def frame(kind, payload):
    return bytes([kind]) + struct.pack(">H", len(payload)) + payload
put("audiosocket_frame", "call", frame(0x01, bytes(range(16))) + frame(0x10, bytes(320)) + frame(0x03, b"5") + frame(0x00, b""))

put("http_head", "upgrade", "GET /twilio HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
put("http_head", "metrics", "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer csk_x\r\n\r\n")

put("pii_mask", "mixed", "my card is 4111 1111 1111 1111 and my number is 138 1234 5678, email john dot smith at gmail dot com, id 11010519491231002X, four one one one")

put("rules_file", "rules", '''[params]
high_value = 1000
[[rule]]
name = "churn"
when = 'utterance.intent == "cancel_service" && customer.tier == "gold"'
actions = [{ type = "tag", value = "churn_risk" }, { type = "task", subject = "Retention call", due_in_hours = 4 }]
[[rule]]
name = "silence"
on = "metrics"
tenants = ["acme"]
when = "call.non_talk_ms > 30000"
actions = [{ type = "alert", message = "Long silence", severity = "high" }]
[[rule]]
name = "disclosure"
actions = [{ type = "alert", message = "No disclosure" }]
[rule.phrase]
require = ["this call may be recorded"]
match = "fuzzy"
role = "agent"
to_s = 30
''')

put("record_mapping", "fields", '''object = "Callsense_Utterance__c"
external_id_field = "Event_Key__c"
[fields]
Call_Id__c = "call_id"
Transcript__c = "transcript"
Score__c = { path = "sentiment.score", sync = "batch" }
Name = { template = "{call_id} #{seq} ({tenant})" }
''')

put("outbox_row", "utterance", "core\n" + json.dumps({"key": "c:1:utterance", "kind": "utterance", "call_id": "c", "tenant": "t",
    "customer_id": "x", "occurred_at_ms": 1, "data": {"seq": 1, "transcript": "hello"}}))

h = hashlib.sha256(b"csk_key").hexdigest()
put("api_keys", "file", f'[[key]]\nid = "a"\ntenant = "acme"\nsha256 = "{h}"\nscopes = ["calls", "board"]\nexpires = "2030-01-01T00:00:00Z"\n--\nBearer csk_key')
