"""Self-written English *spoken* call-centre training data for the callsense-en
text classifier (sentiment: negative/neutral/positive, intent: 16 labels).

Everything here is original text written for this project: templates, a small
compositional grammar and paraphrase variants.  No dataset or test split was
copied or paraphrased, and the held-out dev sets (models/spoken/) were never
opened while writing it.  Standard library only.

API
---
    generate(seed: int = 0, per_intent: int = 600) -> list[dict]
        each dict = {"text", "sentiment", "intent", "category"}; deterministic
        for a given seed (one random.Random(seed) drives everything).

    python models/spoken_data_en.py [--seed 0] [--per-intent 600] [--out FILE.jsonl]
        prints counts per intent x sentiment and per category, diversity
        statistics and 40 random samples; --out writes JSON lines.

Why
---
The v3 model learned "angry words = negative": the older templates carry
negativity mostly through angry openers/closers ("this is ridiculous"), so a
caller who *calmly* explains that a parcel came a week late comes out neutral.
This set teaches that grievance is carried by facts, that requests keep their
intent whatever their sentiment, and what ASR transcripts of phone speech look
like.

Design
------
Each utterance is built in three layers.

1. **Content** (`DOMAINS`, the per-intent tables in `INTENTS`, the generic
   tables).  Nine domains (broadband/TV, mobile, banking/cards, e-commerce,
   utilities, insurance, streaming, airlines, software) supply slot values that
   always fit together: {svc} services, {dev} devices, {fault} first-person
   fault reports, {item} orderable things, {feat} plan changes, {charge}
   billing items, {refund_for}, {tech_job}, {promo}, {ask}.  One domain is
   drawn per utterance (only from the domains that make sense for the intent
   and provide every slot used), so all parts of a composed turn talk about
   the same thing.  Per intent there are neutral request cores (`req`, plus
   `frames` x objects for product_defect / plan_change / product_inquiry;
   60+ phrasings per intent after expansion, see `inventory()`),
   intent-specific grievance statements (`griev`, calm and factual, ~225 in
   all), requests that merely contain negative words (`nnw`), sarcasm events
   (`sarc`), positive cores, short turns and story clauses for long turns.
   product_defect reports are whole first-person fault clauses per domain
   (~85), so device and failure always match.  Generic tables: ~120 grievance
   clauses typed as broken_promise / repetition / elapsed / not_done /
   passed_around / paid_not_received / extra_effort / disappointment /
   resignation / threat, 30+ sarcasm frames with 30 ironic openers, 40
   thanks-in-complaint frames, praise frames, caller backgrounds, hold-
   management and bad-day clauses for long `other` turns.
2. **Composition** per category: calm_complaint (grievance statement(s),
   optional disappointment / resignation / threat tail, no request),
   grievance_request (grievance + request, either order), thanks_in_complaint,
   sarcasm, rambling (40-100 words: opener, identity, 1-4 story clauses,
   grievances or praise, bridge, request at the end), plain_request,
   neutral_negative_words, positive (praise + request / request + praise /
   thanks), short (1-4 words), backchannel, identity, out_of_scope.
   A regional layer (UK/US/IN/AU) picks currency, postcode format, words
   (engineer/technician, mobile/cell phone, fortnight, mum/mom), spelling
   (cancelled/canceled), IN uncontracted forms and "kindly", AU "mate".
3. **ASR surface** (`whisper_noise`, separate and label-preserving):
   sentence case + punctuation most of the time, sometimes lower case without
   punctuation, sometimes no final stop; numbers as digits ($49.99, 3 weeks,
   order 4471 2290, the 15th) or words (decided per utterance when slots are
   filled); fillers (um, uh, like, you know, I mean), false starts and repairs
   ("I want to, I need to cancel"), repeated words, "so yeah", dropped small
   words, and occasional mis-recognitions of key words (subscription ->
   prescription, router -> rooter, refund -> a fund, broadband -> broad band,
   account -> a count, ...).  At most one or two such edits per utterance.

Every intent gets a planned mix of (category, sentiment) shares (`PLAN`;
default ~43 % negative / 41 % neutral / 16 % positive, adjusted where that
makes no sense: complaint has no positive, order_status is mostly neutral,
gratitude is all positive, other is mostly neutral; category shares are in
`PLAN`).  Exact duplicates are
re-drawn, and a text whose normalised form already exists with another label
is dropped, so the output has no duplicates and no label conflicts.  Slots
whose cells run dry fall back to a category of the same sentiment.

Labelling rules
---------------
Sentiment (the customer's, in this turn):

* negative - a grievance, whether or not emotion words are used: broken
  promises ("I was told someone would call me back on Tuesday and nobody
  did"), repetition ("this is the third time I'm calling about this"), elapsed
  time ("it's been two weeks", "I've been waiting since the 3rd"), still not
  done ("the refund still isn't showing"), being passed around, paying for
  something not received, extra effort forced on the customer, disappointment,
  resignation ("I just want it sorted at this point"), threats to leave or
  escalate, lateness of a delivery, lodging a complaint, sarcasm ("oh
  brilliant, another forty minutes on hold"), thanks wrapped round a grievance
  ("thanks for looking into it, but it's still not fixed"), impatient short
  turns ("still nothing", "just cancel it", "manager, now please").
* neutral - plain requests and questions; first-time problem reports worded
  without grievance ("my router's showing a red light, can you help");
  requests that merely contain negative words ("what's the cancellation fee",
  "how do I make a complaint", "is there a penalty for ending early");
  back-channels, identity details, greetings, out-of-scope small talk.  A
  formulaic "please" / "thank you" at the end of a request does not make it
  positive.
* positive - thanks, praise, satisfaction, relief.  A request accompanied by
  real praise keeps its intent and is positive ("that's great, and could you
  also add the sports package" -> plan_change).  Praise mentioning an earlier
  problem that is now solved stays positive ("I was dreading this call but
  that was so easy, thank you").

Intent:

* A request keeps its intent whatever its sentiment: grievance + request ->
  the request's intent ("it's been ten days since I returned it, when do I get
  my money back" -> refund_request, negative).  A grievance statement without
  a request takes the intent of its topic (refund not showing ->
  refund_request, broken again -> product_defect, still being charged the old
  price -> billing_question); a process grievance with no other topic (no
  callback, passed around, long hold, told different things, missed
  appointment) -> complaint.
* Exception (MODEL_CARD boundary): "where is it / when will it come" plus
  lateness or loss ("where is my order, it's a week late") -> delivery_problem;
  order_status keeps only neutral questions, or ones whose grievance is about
  information (nobody can tell me, asked three times), never lateness.  In
  delivery_problem a "where is it" request only follows a lateness / loss
  grievance; after a generic grievance the request is a fix ("can you send a
  replacement", "can you chase the courier").  A first report of a damaged,
  missing or misdelivered parcel worded calmly is delivery_problem/neutral.
* complaint = service / staff / process; product_defect = the product itself
  failing (incl. "still failing after a fix"); repair_request = booking or
  re-booking a repair / engineer visit; billing_question = charges, fees,
  bills, unrecognised or duplicate charges; payment_problem = a payment,
  transfer, top-up, direct debit failing / declined / pending;
  refund_request includes "where is my refund"; plan_change = up/downgrade,
  add/remove features, limits, policy cover; cancel_service = ending a whole
  service, account, subscription or policy; request_human = asking for a
  person / manager / a specific team.
* gratitude = thanks or praise is the point of the turn (always positive
  here).  Thanks inside a complaint is not gratitude: it takes the intent of
  the complaint or request.  Sarcastic thanks ("thanks for nothing") is not
  gratitude either.
* other = back-channels ("okay", "uh-huh", "yeah go on"), identity details
  ("my postcode is ...", "it's 4 4 7 1"), greetings, out-of-scope requests and
  small talk, and bare reactions with no topic ("still nothing", "that didn't
  work either" -> other/negative; "oh that's good to hear" -> other/positive).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict

try:
    from classifier_data import INTENT_LABELS, SENTIMENT_LABELS
except ImportError:  # run from another working directory
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from classifier_data import INTENT_LABELS, SENTIMENT_LABELS

CATEGORIES = [
    "calm_complaint", "grievance_request", "thanks_in_complaint", "sarcasm",
    "rambling", "plain_request", "neutral_negative_words", "positive", "short",
    "backchannel", "identity", "out_of_scope",
]


def L(block: str) -> list[str]:
    """One template per non-empty line (leading/trailing space stripped)."""
    return [ln.strip() for ln in block.strip().splitlines() if ln.strip() and not ln.strip().startswith("#")]


# ===========================================================================
# Regions, numbers and identity-like slot values
# ===========================================================================
REGIONS = ["UK", "US", "IN", "AU"]
REGION_W = [0.40, 0.30, 0.15, 0.15]

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORD_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
             8: "eighth", 9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth",
             14: "fourteenth", 15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth",
             19: "nineteenth", 20: "twentieth", 21: "twenty first", 22: "twenty second",
             23: "twenty third", 24: "twenty fourth", 25: "twenty fifth", 26: "twenty sixth",
             27: "twenty seventh", 28: "twenty eighth", 29: "twenty ninth", 30: "thirtieth",
             31: "thirty first"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def num_words(n: int, us: bool = False) -> str:
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else (" " if us else " and ") + num_words(rest, us))
    if n < 100000:
        rest = n % 1000
        return num_words(n // 1000, us) + " thousand" + (
            "" if rest == 0 else (" and " if rest < 100 and not us else " ") + num_words(rest, us))
    return str(n)


def ordinal_digits(n: int) -> str:
    suf = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suf}"


FIRST_NAMES = L("""
Sarah
James
Priya
Raj
Mike
Emma
Tom
Aisha
Daniel
Chloe
Mohammed
Jess
Liam
Olivia
Arjun
Sophie
Ben
Grace
Wei
Fatima
Jack
Lucy
Ananya
Ryan
Kate
Deepak
Chris
Megan
Sean
Zoe
Harpreet
Connor
Maria
Tyler
Bronwyn
Kwame
""")
LAST_NAMES = L("""
Smith
Patel
Jones
Brown
Khan
Wilson
Taylor
Sharma
Nguyen
O'Connor
Williams
Singh
Murphy
Evans
Garcia
Roberts
Chen
Walker
Hughes
Kelly
Iyer
Thompson
MacDonald
Okafor
""")
STREETS = ["High Street", "Church Road", "Station Road", "Park Avenue", "Maple Drive", "Victoria Road",
           "Oak Lane", "Elm Street", "George Street", "King Street", "Queen's Road", "Mill Lane",
           "Cedar Court", "Lake View"]
CITIES = {
    "UK": ["Manchester", "Leeds", "Glasgow", "Cardiff", "Bristol", "Birmingham", "Newcastle", "Norwich"],
    "US": ["Chicago", "Austin", "Denver", "Phoenix", "Columbus", "Atlanta", "Portland"],
    "IN": ["Bangalore", "Pune", "Chennai", "Hyderabad", "Delhi", "Kochi"],
    "AU": ["Melbourne", "Brisbane", "Perth", "Adelaide", "Geelong", "Hobart"],
}
UK_PC_AREAS = ["SW", "M", "B", "LS", "EH", "G", "CF", "BS", "NE", "L", "OX", "CB", "RG", "N", "E",
               "SE", "NW", "BT", "DE", "NG"]
SEC_WORDS = ["blue", "Rover", "Penny", "sunshine", "Liverpool", "Bramble", "mango", "Biscuit"]
TEAMS = L("""
billing team
technical support
complaints team
retentions team
sales team
claims team
returns department
accounts team
loyalty team
disputes team
repairs team
moving home team
""")
TOPICS = L("""
my bill
a repair
my claim
an order
my contract
closing my account
a payment
my policy
a refund
my mortgage application
""")

# ===========================================================================
# Domains: slot values that belong together
# ===========================================================================
DOMAINS: dict[str, dict[str, list[str]]] = {
    "broadband": {
        "svc": L("""
            my broadband
            the broadband
            my internet
            my fibre package
            the broadband and TV package
            my home phone line
            the TV package
            my internet service
        """),
        "dev": ["router", "hub", "wifi booster", "TV box", "modem"],
        "rdev": ["router", "TV box", "hub"],
        "fault": L("""
            my router keeps dropping the connection
            the router's showing a red light
            the wifi keeps cutting out in the evenings
            my internet's really slow, it's only getting about 2 megs
            the TV box freezes every few minutes
            the hub keeps restarting itself
            there's no dial tone on the landline
            the wifi doesn't reach the upstairs rooms
            the broadband light on the hub is flashing orange
            the internet drops out whenever it rains
            the TV box won't record anything
            none of my devices will connect to the wifi
            the internet's been down since this morning
            the router won't turn on at all
            the TV box says no signal
            the line's really crackly when I make calls
        """),
        "item": ["new router", "replacement hub", "wifi booster", "TV box", "self-install kit"],
        "feat": L("""
            upgrade to the faster fibre
            add the sports channels
            drop the TV and just keep the broadband
            add the movies package
            go up to the 500 meg package
            take the landline off
            switch to the cheaper package
            add a wifi booster to my plan
            remove the kids channels
            add the unlimited calls bundle
        """),
        "charge": L("""
            the engineer call-out fee
            the charge for the router
            the price rise
            the set-up fee
            the charge for international calls
            the late payment fee
            the second lot of line rental
            the pay-per-view charge
            the router delivery charge
        """),
        "refund_for": L("""
            the days the internet was down
            the engineer fee
            the router I sent back
            the month I had no service
            the installation charge
            the film that never loaded
        """),
        "tech_job": L("""
            look at the line
            check the socket
            have a look at the router
            check the wiring outside
            fix the connection
            move the master socket
            sort out the dish
        """),
        "promo": L("""
            the half price fibre deal
            the new customer offer
            the free upgrade deal
            the loyalty discount
            the bundle discount
            the three months free TV offer
        """),
        "ask": L("""
            what speeds I can get at my address
            whether fibre is available in my area
            if the package includes calls
            if the router supports wifi 6
            how the TV box records programmes
            whether there's a data cap
            if I can get a static IP address
            which channels come with the basic package
            how long the minimum term is
            if I can keep my landline number
        """),
        "plan": ["package", "contract", "deal", "plan"],
        "onsite": [""],
    },
    "mobile": {
        "svc": L("""
            my mobile contract
            my phone contract
            my SIM only plan
            the second line on my account
            my {mobile} plan
            my daughter's line
            the contract on this number
        """),
        "dev": ["phone", "new phone", "SIM", "handset", "smartwatch"],
        "rdev": ["phone", "handset"],
        "fault": L("""
            my phone keeps restarting on its own
            I've got no signal at home
            the new SIM isn't working
            my calls keep dropping after a few seconds
            the battery on the new phone drains in a couple of hours
            I can't send texts but calls work fine
            mobile data isn't working abroad
            the screen goes black during calls
            the phone won't charge
            the eSIM won't activate
            the phone's stuck on the logo screen
            people say I sound muffled on calls
            my voicemail isn't working
            I can't make calls, it just says call failed
        """),
        "item": ["new phone", "SIM card", "replacement handset", "phone case", "new SIM"],
        "feat": L("""
            add more data to my plan
            switch to a SIM only deal
            add a line for my son
            add roaming to my plan
            upgrade my phone early
            drop to a smaller data bundle
            add international calls
            take the insurance off my contract
            go unlimited on data
            add a spending cap to my daughter's line
        """),
        "charge": L("""
            the roaming charges
            the charge for going over my data
            the premium rate texts
            the upgrade fee
            the charge for calls to an 0870 number
            the insurance on my contract
            the international call charge
        """),
        "refund_for": L("""
            the phone I returned in the cooling off period
            the roaming charges
            the week the signal was down
            the case that never came
            the insurance I was charged for after cancelling
        """),
        "tech_job": L("""
            fix my cracked screen
            replace the battery
            repair the charging port
            look at the phone under warranty
            fix the camera
        """),
        "promo": L("""
            the double data offer
            the free earbuds deal
            the upgrade discount
            the family plan discount
            the trade-in offer
        """),
        "ask": L("""
            if the phone supports 5G
            whether the plan includes roaming in Europe
            how much data I have left
            if the phone comes in blue
            whether I can keep my number if I switch
            how the trade-in works
            if the new phone has dual SIM
            what the minimum contract length is
        """),
        "plan": ["tariff", "plan", "bundle", "contract"],
        "onsite": [""],
    },
    "banking": {
        "svc": L("""
            my current account
            my credit card
            my savings account
            the joint account
            my business account
            my account
            the overdraft
        """),
        "dev": ["card", "debit card", "banking app", "credit card", "card reader"],
        "rdev": [],
        "fault": L("""
            my card isn't working in shops
            contactless isn't working on my card
            the banking app crashes when I open it
            the chip on my card seems to be damaged
            the app won't load my statements
            the card reader you sent doesn't switch on
            my card got bent and now the machines won't read it
            the app keeps freezing on the payments screen
            my card won't work at cash machines
            the app shows a blank screen after I log in
        """),
        "item": ["new card", "replacement card", "card reader", "chequebook", "PIN letter"],
        "feat": L("""
            increase my credit limit
            lower my credit limit
            add an arranged overdraft
            switch to the premium account
            add my wife as a cardholder
            raise my daily transfer limit
            remove the overdraft
            switch to a fee-free account
            add travel insurance to my account
            turn my account into a joint account
        """),
        "charge": L("""
            the overdraft fee
            the foreign transaction fee
            the monthly account fee
            the cash withdrawal fee
            the interest charge
            the card replacement fee
            the charge from a shop I've never heard of
            the payment I don't recognise
        """),
        "refund_for": L("""
            the overdraft fee
            the foreign transaction fees
            the card fee
            the duplicate charge
            the interest I was charged by mistake
        """),
        "tech_job": [],
        "promo": L("""
            the cashback offer
            the switching bonus
            my reward points
            the interest rate boost
            the sign-up bonus
        """),
        "ask": L("""
            how long a bank transfer takes
            what the interest rate on the savings account is
            if I can use my card abroad
            what the exchange rate is today
            whether there's a fee for taking cash out abroad
            how to set up a standing order
            if I can get a virtual card
            what the daily withdrawal limit is
            whether you do international transfers
        """),
        "plan": ["account", "credit limit", "overdraft"],
        "onsite": [],
    },
    "ecommerce": {
        "svc": L("""
            my premium membership
            my account
            the monthly subscription box
            the delivery pass
            my membership
        """),
        "dev": L("""
            blender
            headphones
            kettle
            vacuum
            air fryer
            laptop
            coffee machine
            electric toothbrush
            washing machine
            smartwatch
            hair dryer
            printer
        """),
        "rdev": ["washing machine", "dishwasher", "fridge", "oven", "laptop", "tumble dryer"],
        "fault": L("""
            the blender I bought won't turn on
            the headphones only play out of one side
            the kettle leaks from the bottom
            the vacuum's making a grinding noise
            the display on the air fryer isn't working
            the laptop won't charge
            the coffee machine won't heat up
            the washing machine won't drain
            the printer says there's a paper jam but there isn't
            the smartwatch won't pair with my phone
            the hair dryer keeps cutting out
            the toaster only heats one side
        """),
        "item": L("""
            order
            parcel
            package
            sofa
            laptop
            shoes
            air fryer
            delivery
            birthday present
            new mattress
            washing machine
        """),
        "feat": L("""
            switch my membership to annual
            skip next month's box
            change my subscription box to every other month
            add my partner to the membership
            upgrade to the premium delivery pass
        """),
        "charge": L("""
            the delivery charge
            the membership fee
            the charge for an order I cancelled
            the second payment for the same order
            the restocking fee
        """),
        "refund_for": L("""
            the jacket I sent back
            order {ordernum}
            the missing item
            the delivery fee
            the shoes I returned
            the damaged mug set
            the membership renewal
        """),
        "tech_job": L("""
            fix the washing machine
            look at the dishwasher
            repair the fridge freezer
            come and look at the oven
            fix the tumble dryer
        """),
        "promo": L("""
            the summer sale price
            the ten percent welcome discount
            the free delivery code
            the Black Friday deal
            the student discount
            the bundle offer
        """),
        "ask": L("""
            if the sofa comes in grey
            whether the laptop has a backlit keyboard
            if the air fryer basket is dishwasher safe
            when the trainers will be back in stock
            what size I should order
            if you deliver on Saturdays
            how long the warranty is on the TV
            whether the jacket is waterproof
        """),
        "plan": ["membership", "subscription"],
        "onsite": [""],
    },
    "utilities": {
        "svc": L("""
            my gas and electric
            my energy account
            the electricity
            my water account
            the gas supply
            my dual fuel account
        """),
        "dev": ["smart meter", "boiler", "meter", "thermostat", "in-home display"],
        "rdev": ["boiler", "smart meter", "thermostat"],
        "fault": L("""
            my smart meter isn't sending readings
            the in-home display has gone blank
            the boiler's showing an error code
            the smart thermostat keeps resetting itself
            there's no hot water since this morning
            the meter's making a clicking noise
            the heating won't come on
            the display says I've used three days of gas in one day
            the electricity keeps tripping
        """),
        "item": ["in-home display", "meter key", "welcome pack"],
        "feat": L("""
            switch to the fixed tariff
            move to the green energy tariff
            switch to an economy 7 tariff
            add the boiler cover
            move from prepayment to a normal meter
            switch to the electric car tariff
            remove the boiler cover
        """),
        "charge": L("""
            the estimated bill
            the standing charge
            the catch-up bill
            the charge for gas I haven't used
            the jump in my direct debit
            the exit fee from my old tariff
        """),
        "refund_for": L("""
            the credit on my old account
            the overpayment
            the money left on my account after I switched
            the months I was overcharged
        """),
        "tech_job": L("""
            service the boiler
            fix the heating
            look at the smart meter
            come and check the meter
            repair the boiler
        """),
        "promo": L("""
            the boiler cover discount
            the refer a friend credit
            the dual fuel discount
            the fixed rate offer
            the loyalty reward
        """),
        "ask": L("""
            how the fixed tariff works
            if I can get solar panels through you
            how the smart meter works
            what the unit rate is
            whether the price cap affects me
            how to send a meter reading
            if there's a tariff for electric cars
        """),
        "plan": ["tariff", "plan"],
        "onsite": [""],
    },
    "insurance": {
        "svc": L("""
            my car insurance
            my home insurance
            the policy
            my travel insurance
            my pet insurance
            my contents cover
            the breakdown cover
        """),
        "dev": [],
        "rdev": [],
        "fault": [],
        "item": ["policy documents", "insurance certificate", "documents", "renewal pack"],
        "feat": L("""
            add my son as a named driver
            add accidental damage cover
            increase my excess
            move the policy over to my new car
            add breakdown cover
            take my ex-partner off the policy
            add legal cover
            extend the travel insurance to cover skiing
            lower my excess
            add my new laptop to the contents cover
        """),
        "charge": L("""
            the admin fee for changing my address
            the mid-term adjustment fee
            the renewal price
            the cancellation fee
            the second premium this month
        """),
        "refund_for": L("""
            the rest of the year on my policy
            the premium I paid twice
            the admin fee
            the unused months on my policy
        """),
        "tech_job": [],
        "promo": L("""
            the multi-car discount
            the no claims discount
            the loyalty discount
            the online quote price
            the black box discount
        """),
        "ask": L("""
            if my policy covers accidental damage
            whether I'm covered to drive abroad
            what my excess is
            if my travel insurance covers cancellations
            whether my pet insurance covers dental
            what counts as a pre-existing condition
            if flood damage is included
            whether my bike is covered away from home
        """),
        "plan": ["policy", "cover"],
        "onsite": [],
    },
    "streaming": {
        "svc": L("""
            my subscription
            the streaming subscription
            my premium plan
            the family plan
            my membership
            the sports pass
            my music subscription
        """),
        "dev": ["app", "TV app", "player"],
        "rdev": [],
        "fault": L("""
            the app keeps crashing on my TV
            videos keep buffering even though my internet's fine
            the sound is out of sync with the picture
            downloads won't play offline
            the app says there's an error playing this title
            the subtitles won't turn off
            the live sport keeps freezing
            the picture is stuck in low quality
            the app won't open on my phone since the update
        """),
        "item": [],
        "feat": L("""
            upgrade to the 4K plan
            switch to the plan with adverts
            move to the family plan
            add another screen
            pause my subscription for a couple of months
            add the sports pass
            switch to annual billing
            drop down to the basic plan
        """),
        "charge": L("""
            the renewal charge
            the charge for a film I didn't rent
            the second subscription on my card
            the price increase
            the charge after my free trial
        """),
        "refund_for": L("""
            the annual renewal I didn't want
            the month I was charged after cancelling
            the film that wouldn't play
            the sports pass I couldn't use
        """),
        "tech_job": [],
        "promo": L("""
            the free trial
            the half price for three months offer
            the student plan
            the annual discount
            the bundle with my phone contract
        """),
        "ask": L("""
            how many screens I can watch on at once
            if I can download shows to watch offline
            whether the sports pass includes the football
            if the family plan works in different houses
            what devices the app works on
            whether there's a kids profile
            if the 4K plan includes surround sound
        """),
        "plan": ["plan", "subscription", "tier"],
        "onsite": [],
    },
    "airline": {
        "svc": [],
        "dev": ["app"],
        "rdev": [],
        "fault": L("""
            the app won't let me check in
            my boarding pass won't download
            the seat map isn't loading on the app
            the app crashes when I try to add my passport details
        """),
        "item": [],
        "feat": [],
        "charge": L("""
            the baggage fee
            the seat selection charge
            the change fee
            the second charge for the same flight
            the card fee on my booking
        """),
        "refund_for": L("""
            my cancelled flight
            the seat I paid for and didn't get
            the bag fee
            the unused return leg
            the upgrade that wasn't honoured
        """),
        "tech_job": [],
        "promo": L("""
            my air miles
            the frequent flyer points
            the early booking discount
            the companion voucher
            the lounge pass offer
        """),
        "ask": L("""
            what the baggage allowance is on my ticket
            if I can take a pram on board
            whether meals are included on the flight
            how early I need to check in
            if I can change the name on the ticket
            whether the flight has wifi
            if I can bring my guitar as hand luggage
        """),
        "plan": [],
        "onsite": [],
    },
    "software": {
        "svc": L("""
            my licence
            my software subscription
            the cloud storage plan
            my account
            the team plan
            the antivirus subscription
            my password manager subscription
        """),
        "dev": ["app", "software", "desktop app", "sync", "plugin"],
        "rdev": [],
        "fault": L("""
            the desktop app crashes when I open a big file
            my files aren't syncing between my laptop and phone
            the software won't install on my new laptop
            the app freezes when I try to export
            the activation key says it's invalid
            the plugin stopped working after the update
            the antivirus is blocking my printer
            the app uses all my memory and slows everything down
            the backup has been failing every night
            spell check doesn't work in the new version
        """),
        "item": ["licence key", "activation email", "installation USB"],
        "feat": L("""
            add two more seats to our licence
            move to the annual plan
            upgrade to the pro version
            add more cloud storage
            downgrade to the free tier
            remove a user from the team plan
            switch from monthly to yearly
        """),
        "charge": L("""
            the renewal I thought I'd turned off
            the charge for extra seats
            the tax on top of the price
            the second charge for the same licence
            the price increase on renewal
        """),
        "refund_for": L("""
            the licence I bought by mistake
            the annual renewal
            the extra seats we never used
            the upgrade that didn't work on my computer
        """),
        "tech_job": [],
        "promo": L("""
            the education discount
            the upgrade price for existing users
            the nonprofit discount
            the annual plan discount
            the referral credit
        """),
        "ask": L("""
            if the software works on a Mac
            how many devices I can install it on
            whether there's an offline mode
            how much storage comes with the basic plan
            if I can share files with people outside the team
            if there's a student version
        """),
        "plan": ["plan", "licence", "tier"],
        "onsite": [],
    },
}
DOMAIN_KEYS = {"svc", "dev", "rdev", "fault", "item", "feat", "charge", "refund_for", "tech_job",
               "promo", "ask", "plan", "onsite"}
ALL_DOMAINS = list(DOMAINS)

# ===========================================================================
# Generic grievance clauses (facts, mostly no emotion words), by type.
# ===========================================================================
GRIEVANCE: dict[str, list[str]] = {
    "broken_promise": L("""
        I was told someone would call me back on {weekday} and nobody did
        I was promised a callback within 48 hours and that was {dur} ago
        the last person said it would be sorted by {weekday}
        I was told it would be done within five working days
        your colleague said she'd email me and I never got anything
        I was told it had been escalated, but nothing's happened since
        they said they'd put a note on the account, and there's no note
        someone on the chat told me it was all fixed
        I was assured last time that this wouldn't happen again
        the lady I spoke to on {weekday} said she'd ring me back that afternoon
        I got a text saying it was resolved, and it isn't
        I was told I'd get a confirmation email and I haven't had one
        {name} said he'd sort it personally and I've heard nothing since
        I was told it'd be sorted before the weekend
        your letter said it would all be done by {date}
        I was told to wait 24 hours and then call back, and I've done that
        the man on the phone last week promised me he'd deal with it himself
        I was told a manager would ring me, and no one has
    """),
    "repetition": L("""
        this is the {nth} time I'm calling about this
        I've already explained this {times}
        I've called {times} this week about the same thing
        I've been through all of this with the last person
        every time I call I have to start again from the beginning
        I've given my details three times on this call already
        this is the {nth} time it's happened this year
        I rang about exactly this last month
        it's the same problem I reported back in {month}
        I've already done all the checks the last agent asked me to do
        I've had this exact conversation before
        I keep getting asked the same questions
        I've sent the same email {times} now
        I already gave all of this to your colleague
        I've reported this {times} now
        this is my {nth} call today
    """),
    "elapsed": L("""
        it's been {dur} now
        I've been waiting since {date}
        it's been {dur} since I first reported it
        I first raised this {dur} ago
        I raised this back in {month}
        this has been going on since {month}
        I've been on hold for {hold} today
        I've been trying to get through since {clock} this morning
        that was over {dur} ago
        I've been going back and forth on this for {dur}
        it's now been over a month
        I've been dealing with this for {dur}
        it's been dragging on for {dur}
        it's been {dur} and I'm still waiting
        I've been waiting on this since {month}
    """),
    "not_done": L("""
        nothing has changed
        it's still not sorted
        nobody's got back to me
        I still haven't had a reply to my email
        there's still no update on the case
        the problem's still there
        it's still exactly the same
        nothing's actually been done
        the case is still showing as open
        I've still had no confirmation of anything
        nobody has actually done anything yet
        I'm still in the same position I was in {dur} ago
    """),
    "passed_around": L("""
        I've been passed between three different departments
        I've been transferred {times} already
        the last team told me to call you, and you're telling me to call them
        billing sent me to technical and technical sent me back to billing
        every department says it's someone else's job
        I was put through to the wrong team twice
        the chat told me to ring, and the phone line told me to use the chat
        the shop told me to call you, and you're telling me to go back to the shop
        I got cut off the last time someone tried to transfer me
        I've spoken to four different people and got four different answers
        I've been told to ring back {times} now
    """),
    "paid_not_received": L("""
        I'm paying {money} a month for this
        I've paid for a service I'm not getting
        I'm still paying full price for it
        I've paid in full and I've got nothing to show for it
        I've been paying for it the whole time
        I paid extra for the faster option
        I've paid {money} for this
        I'm paying for something I can't use
    """),
    "extra_effort": L("""
        I've had to take a day off work for this
        I've spent my whole lunch break on the phone
        I've had to chase this every single time
        I've had to take another afternoon off
        %banking I had to go into the branch in person
        I've filled in the same form twice
        I've sent the photos they asked for already
        I had to sit in the house all day
        %broadband I've had to ring from work because the line at home doesn't work
        %broadband I've had to borrow my neighbour's wifi
        I've had to sort half of it out myself
        I've printed the forms, signed them and posted them back
    """),
    "disappointment": L("""
        I'm a bit disappointed, to be honest
        I expected better, to be honest
        it's not really what I expected from you
        I've been with you {years} years and never had this before
        I used to recommend you to people
        it's just not good enough really
        it's not what I was sold
        it's a shame, because it used to be fine
        I'm not happy with how it's been handled
        that's not the level of service I'd expect
        I thought you'd be better than this
    """),
    "resignation": L("""
        I just want it sorted at this point
        honestly I just want it done
        I don't really mind how, I just need it fixed
        I'm not going to keep chasing this
        I don't know what else to do
        I'm at the point where I don't know who to ask
        I just need someone to actually sort it
        I haven't got the time to keep doing this
        I've run out of ideas
        I'll take whatever you can do at this stage
    """),
    "threat": L("""
        if this isn't fixed I'll have to look elsewhere
        I'll be taking it to the ombudsman if not
        otherwise I'm going to cancel
        I'm going to have to move to another provider
        I'll be leaving a review about this
        if it isn't sorted this week I'm leaving
        I'll have to dispute it with my bank
        I want it noted that I'll be making a formal complaint
        I'm already looking at other companies
        I won't be renewing if this carries on
    """),
}
MAIN_TYPES = ["broken_promise", "repetition", "elapsed", "not_done", "passed_around",
              "paid_not_received", "extra_effort"]
TAIL_TYPES = ["disappointment", "resignation", "threat"]
# Generic grievance types each intent may combine with its requests.  order_status
# never gets lateness (that would make it delivery_problem).
ALLOWED_TYPES = {i: MAIN_TYPES for i in INTENT_LABELS}
ALLOWED_TYPES["order_status"] = ["repetition", "passed_around"]
ALLOWED_TYPES["delivery_problem"] = ["repetition", "passed_around", "extra_effort", "broken_promise"]

# ===========================================================================
# Openers, closers, connectors
# ===========================================================================
OPENERS = {
    "any": L("""
        hi
        hello
        hi there
        yeah hi
        hello, yes
        hi, um
        good morning
        good afternoon
        yeah so
        okay so
        right so
        so basically
        I'm calling because
        I'm calling about my account,
        I was just ringing to ask,
        quick question,
        I've got a query,
        sorry to bother you, but
        hi, my name's {first},
        hi, it's {first} {last} here,
        hello, I'm calling on behalf of my mum,
        yes, hello, so
        hi, I hope you can help,
        so the reason I'm calling is
        okay, um, so
    """),
    "UK": ["hiya", "morning", "hello there, right", "hiya, you alright,"],
    "US": ["hey", "hey there", "hi, yes, so", "hi, how's it going,"],
    "IN": ["hello ma'am", "hello sir", "good morning ma'am", "hello, yes, actually"],
    "AU": ["g'day", "hey there", "morning", "g'day, how are ya,"],
}
# Openers that go in front of a grievance (no "quick question" / "I was just ringing to ask").
OPENERS_G = L("""
    hi
    hello
    yeah hi
    right so
    okay so
    so basically
    look
    hi, yeah, so
    hello, so
    I'm calling because
    so the reason I'm calling is
    yes hello, so
    right, okay, so
    hi there, so
    hi, it's {first} {last} here,
    hello, I'm calling on behalf of my dad,
    um, hi, so
""")
OPENERS_Q_BAD = {"I'm calling because", "so the reason I'm calling is", "I'm calling about my account,"}
OPENERS_STMT_BAD = {"quick question,", "I was just ringing to ask,", "I've got a query,"}
CLOSERS = L("""
    please
    if that's possible
    if you can
    when you get a chance
    my reference is {ref}
    the account's in my name
    the order number is {ordernum}
    thank you
    please, thank you
    if you don't mind
    if that's okay
    my account number is {acctnum}
""")
# grievance -> request and request -> grievance connectors
G2R = [", so ", ". So ", ", ", ". ", ", anyway, ", ". Anyway, ", ", so yeah, ",
       ". Look, ", ". At this point ", ", so basically ", ". Right, so ", ", and now ", ". "]
R2G = [", ", " because ", ". ", ", and ", ", because ", ". I mean ", ". Honestly "]
G2G = [", and ", ". ", ", ", " and ", ", and on top of that ", ". And ", ", plus "]

# ===========================================================================
# Positive material
# ===========================================================================
PRAISE_PRE = L("""
    you've been really helpful so far
    the last person I spoke to was lovely
    that's brilliant, thank you
    oh that's great news
    perfect, that's sorted then
    honestly I've been really happy with you
    great, thanks for that
    lovely, cheers
    that's amazing, thank you so much
    brilliant
    oh wonderful
    I've been with you {years} years and never had a problem
    that was so quick, thank you
    you've made this really easy
    I'm really pleased with the service
    oh that's a relief
    awesome, thanks
    you've been a star
    that's great
    that's really good to hear
    I have to say the service has been excellent
    I'm so glad I got through to you
    you guys have been great
    I've recommended you to all my friends
    that's a weight off my mind
    what a helpful call this has been
    the app's been really good actually
    fab, thank you
""")
PRAISE_PRE_ONSITE = L("""
    the {tech} who came last week was fantastic
    the {tech} was brilliant, really friendly
""")
PRAISE_CONN = [", and ", ", and while I've got you, ", ", so ", ". One more thing, ", ". Also, ",
               ", oh and ", ", and just quickly, ", ". ", ", and could you also help me with this, "]
# Real praise, not a formulaic "thank you" (that stays neutral).
PRAISE_SUF = L("""
    that'd be brilliant
    you're a star
    I really appreciate your help
    thanks, you've been great
    that would be amazing
    cheers, you've been brilliant
    you've been so helpful
    you've been fantastic today
    you've been really lovely about all this
    honestly, you've been brilliant
""")
RELIEF = L("""
    great, that's the first thing sorted
    oh brilliant, that worked
    perfect, that's done then
    lovely, that's all working now
    oh that's much better, thank you
    amazing, that was quick
""")
# Long neutral turns for `other` (hold management) and negative ones about the
# caller's day (no topic, so intent other).
HOLD_CLAUSES = L("""
    sorry, I'm just in the car
    hang on, I'm going to pull over
    the kids are in the back
    right, okay, sorry about that
    where were we
    I've just come in from the garden
    I need to find a pen
    let me find my glasses
    my husband's got all the paperwork upstairs
    I'm going to shout him down
    he'll know the number
    I've got the letter here in front of me
    there are a lot of numbers on it
    I'm not sure which one you need
    give me a second
    the dog's barking at the postman
    I'm putting you on speaker
    can you still hear me
    I'm just moving into the other room
    it's a bit noisy here
    okay, I'm back
    I've got it now
    sorry, my other phone was ringing
    I'm at the bus stop
""")
LIFE_STRESS = L("""
    honestly it's been one of those weeks
    the car's in the garage
    the kids are off school
    I've been up since five
    my boss keeps ringing me
    I'm meant to be at work
    the dog's been sick all night
    I've got a splitting headache
    I've not even had lunch yet
    everything's going wrong today
    I've got to pick the kids up in ten minutes
    the washing machine flooded the kitchen this morning
    I missed my train
    I'm just so tired
    I don't have the energy for this
    I'm at the end of my rope today
""")

# ===========================================================================
# Sarcasm and thanks-in-complaint frames
# ===========================================================================
SARC_OPENERS = L("""
    oh brilliant
    great
    oh great
    fantastic
    lovely
    oh perfect
    wonderful
    marvellous
    super
    cool
    awesome
    nice one
    oh good
    excellent
    oh that's just great
    oh wow
    amazing
    terrific
    fab
    oh lovely stuff
    perfect, just perfect
    oh how lovely
    oh, that's helpful
    great, really great
    oh joy
    splendid
    oh fantastic
    wow, great
    well that's just brilliant
    oh, nice
""")
SARC_ADJ = ["brilliant", "perfect", "wonderful", "great", "lovely", "fantastic", "marvellous",
            "amazing", "super"]
SARC_FRAMES = L("""
    {o}, {b}
    {o}, so {b}
    {o}, {b}. just {adj}
    {b}. {o}
    {b}, {o}
    oh {adj}, {b}
    well isn't that {adj}, {b}
    {o}, {b}, exactly what I needed today
    just what I needed, {b}
    love that, {b}
    what a surprise, {b}
    shock horror, {b}
    who could have guessed, {b}
    ten out of ten, {b}
    really smooth process this, {b}
    oh yeah, super helpful, {b}
    {o}, {b}, you've really outdone yourselves
    well done, {b}
    fantastic customer service as always, {b}
    {o}, {b}, and I'm supposed to be grateful
    the gift that keeps on giving, {b}
    {o}. so {b}. {r}
    {o}, {b}, so {r}
    I love how {b}
    nice to know that {b}
    {b}, that's just {adj}
    {o}, and now {b}
    right, {o}, so {b}
    {o}, {b}. {adj} service as usual
    {b}, {o}, so {r}
    so {b}. {o}. really {adj}
""")
TIC_FRAMES = L("""
    thanks for looking into it, but {g}
    I appreciate you trying, but {g}
    thank you, but {g}
    cheers for that, but {g}
    I know it's not your fault, and thanks for listening, but {g}
    thank you for your patience, but honestly {g}
    that's kind of you, but {g}
    I do appreciate it, but {g}
    you've been very polite, but {g}
    thanks for the apology, but {g}
    thank you, and no offence to you, but {g}
    thanks for getting back to me, but {g}
    I'm grateful for the credit, but {g}
    thanks for the update, but {g}
    thanks, I suppose, but {g}
    okay, thank you, but {g}
    thank you for that, although {g}
    I appreciate the voucher, but {g}
    thanks for explaining, but {g}
    that's very nice of you, but {g}
    you've been lovely, honestly, but {g}
    thanks for calling back, but {g}
    I'm thankful someone's finally picked up, but {g}
    thanks, and I don't want to be difficult, but {g}
    thanks, but {g}, so {r}
    I appreciate that, but {g}, so {r}
    thanks, but with respect, {g}
    thanks for your help so far, but {g}, and {r}
    thank you, I know you're trying, but {g}. {r}
    cheers, but {g}. so {r}
    {r}, thanks, because {g}
    I appreciate you're just doing your job, but {g}
    thanks for being honest, but {g}
    thank you, really, but {g}
""")
# Complaint-only thanks frames (no slot needs)
TIC_COMPLAINT = L("""
    thanks, but that's exactly what the last person told me
    thank you, but I've heard that before
    thanks for the reference number, but I've already got three of them
    I appreciate the apology, but I've had a lot of apologies and no answers
    thanks, but I was told exactly the same thing on {weekday}
    cheers, but nobody's actually going to ring me back, are they
    thanks for the case number, that makes four now
    thank you, but another apology doesn't really fix anything
""")

# ===========================================================================
# Long-turn material
# ===========================================================================
RAMBLE_OPEN = L("""
    hi, yeah, so
    hello, um, I'm calling because
    right, so basically
    hi there, sorry, this might take a minute to explain, but
    okay so, long story, but
    hi, yes, I'll try and keep this short, but
    hello, so, um
    yeah hi, so the thing is
    hi, right, where do I start
    morning, so
    hi, sorry, bear with me,
    hello, okay, so
""")
RAMBLE_ID = L("""
    my name's {first} {last}
    the account's under my husband's name but I'm on it too
    I've got my account number here somewhere, it's {acctnum}
    it's {first} {last}, the postcode's {pc}
    I live in {city}
    I'm the account holder
""")
BACKGROUND = L("""
    I've been with you for about {years} years
    I'm on my lunch break so I've only got a few minutes
    I had a look on the website first but couldn't find the answer
    my son normally sorts this kind of thing out but he's away
    I'm calling for my mum, she's here with me and she's happy for me to talk
    we moved house back in {month}
    I've just got back from holiday
    I got a letter through the door this morning
    I've got the paperwork in front of me
    I work nights so this is the only time I can call
    I've not had to call before so I'm not sure how this works
    I'm driving at the moment so you're on speaker
    I've got the email up on my laptop
    I set everything up online at the start
    I think it's under my partner's name actually
    my wife usually deals with the bills
    we've got two teenagers in the house so we use it a lot
    I run a small business from home
    I'm a bit hard of hearing so bear with me
    I'm not very good with technology
    I'm on the train so I might cut out
    my daughter set it all up for me
    I'm calling from my work phone
    I've got a few minutes before I pick the kids up
    I did read the help page
    I'm in {city}, if that makes any difference
""")
BRIDGE_THANKS = ["anyway", "so yeah", "so basically", "but yeah", "so", "anyway, yeah", "so I just wanted to say",
                 "long story short"]
BRIDGE = ["anyway", "so yeah", "long story short", "so basically", "but yeah", "so, um", "so",
          "anyway, yeah", "so what I wanted to ask is", "so I suppose my question is"]

# ===========================================================================
# Noise tables
# ===========================================================================
FILLERS = ["um", "uh", "like", "you know", "I mean", "so", "er", "well", "erm", "basically"]
REPAIRS = [
    ("I want to", "I want to, I need to"), ("I need to", "I need, I need to"),
    ("can you", "can you, could you"), ("could you", "could you, can you"),
    ("I'd like to", "I'd like, I want to"), ("it's been", "it's, it's been"),
    ("I was told", "I was, I was told"), ("I've been", "I've, I've been"),
    ("I've already", "I've, I already"), ("where is", "where is, where's"),
    ("when will", "when will, when's"), ("how do I", "how do I, how can I"),
    ("I think", "I think, I'm pretty sure"), ("my ", "my, our "),
    ("the ", "the, the "), ("is there", "is, is there"), ("I called", "I called, I rang"),
    ("what's", "what, what's"), ("I can't", "I can't, I couldn't"),
]
ASR_SUBS = [
    (r"\bsubscription\b", ["prescription", "sub scription"]),
    (r"\brouter\b", ["rooter", "writer"]),
    (r"\brefund\b", ["a fund", "re fund"]),
    (r"\bbroadband\b", ["broad band", "broad ban"]),
    (r"\baccount\b", ["a count", "count"]),
    (r"\bpassword\b", ["pass word"]),
    (r"\bwifi\b", ["wi-fi", "why fi"]),
    (r"\bdirect debit\b", ["direct the bit", "direct debbit"]),
    (r"\btariff\b", ["terrif", "tarrif"]),
    (r"\bupgrade\b", ["up grade"]),
    (r"\bmodem\b", ["modern"]),
    (r"\bcourier\b", ["currier"]),
    (r"\bpromo code\b", ["promo coat", "promo cold"]),
    (r"\bhub\b", ["hob"]),
    (r"\boverdraft\b", ["over draft"]),
    (r"\bvoucher\b", ["voucher's"]),
    (r"\bengineer\b", ["engineers"]),
    (r"\btechnician\b", ["technicians", "tech nition"]),
    (r"\bparcel\b", ["parcels", "parsel"]),
    (r"\bSIM\b", ["sim", "Sims"]),
    (r"\blogin\b", ["log in"]),
    (r"\bboiler\b", ["broiler"]),
    (r"\bPIN\b", ["pin", "pen"]),
    (r"\bdeclined\b", ["decline"]),
    (r"\bstatement\b", ["settlement"]),
    (r"\bcharged\b", ["charge"]),
]
DROPPABLE = {"the", "a", "to", "of", "that", "just", "really", "so", "is", "it", "my", "for"}
EMOTION_RE = re.compile(
    r"!|\b(angry|furious|fuming|livid|annoy\w*|frustrat\w*|ridiculous|unacceptable|disappoint\w*|"
    r"upset|terrible|awful|horrible|joke|sick of|fed up|worst|hate|useless|disgrace\w*|pathetic|"
    r"rubbish|nightmare|shocking|appalling|gutted|not happy|unhappy|fed-up|outrage\w*|"
    r"disgust\w*|rude|mad|hopeless|shame)\b", re.I)

# ===========================================================================
# Per-intent material.
#   domains: where the intent makes sense (repeats = weight)
#   req:     neutral request cores (also used after a grievance)
#   plain:   neutral cores for plain_request if different from req
#   nnw:     neutral requests that merely contain negative words
#   griev:   intent-specific calm grievance statements (negative)
#   sarc:    sarcasm events (negative)
#   pos:     intent-specific positive turns
#   short:   1-4 word turns by sentiment
#   story:   neutral story clauses for long turns
# Markers: "%domain " forces a domain, "@UK " etc. forces a region.
# ===========================================================================
ONSITE = ["broadband", "mobile", "ecommerce", "utilities"]
SHIPPING = ["ecommerce", "ecommerce", "ecommerce", "ecommerce", "mobile", "broadband", "banking",
            "software", "insurance", "utilities"]

INTENTS: dict[str, dict] = {}

INTENTS["cancel_service"] = dict(
    domains=["broadband", "mobile", "banking", "ecommerce", "utilities", "insurance", "streaming",
             "software"],
    req=L("""
        I'd like to cancel {svc}
        I want to cancel {svc}
        I need to cancel {svc}
        can you cancel {svc} for me
        could you close {svc} please
        I'm calling to cancel {svc}
        I'd like to end {svc}
        how do I cancel {svc}
        what do I need to do to cancel {svc}
        I want to terminate {svc}
        please cancel {svc} from the end of the month
        I'd like to give notice on {svc}
        can I cancel {svc} over the phone
        I'm ringing to cancel {svc}
        I'd like {svc} cancelled please
        I want {svc} closed down
        can you stop {svc} from renewing
        I don't want {svc} to renew, can you cancel it
        I need to cancel {svc} before the renewal date
        we're moving abroad so I need to cancel {svc}
        I'm moving house and won't need {svc} anymore, so I'd like to cancel
        I've found a cheaper deal elsewhere so I'd like to cancel {svc}
        we don't use {svc} anymore, so please cancel it
        is it possible to cancel {svc} today and have it stop straight away
        I want to cancel {svc}, what's the process
        I'd like to stop {svc} at the end of this billing period
        can you put a cancellation through on {svc}
        I'm looking to close {svc}
        I've decided to cancel {svc}
        can you cancel {svc} but leave everything else as it is
        I won't be renewing {svc}, can you make sure it doesn't roll over
        I'd like to close {svc} down completely
        can I end {svc} early
        I need {svc} cancelled from {date}
        could you process a cancellation for {svc}
        I'd like to terminate {svc} with thirty days notice
        I want to come out of {svc}
        @IN kindly cancel {svc} with immediate effect
        @IN I want to close {svc}, please do the needful
        @AU g'day, I need to cancel {svc}
        @US hi, I'd like to cancel {svc}, effective today
        %banking I'd like to close my account and move my money elsewhere
        %banking can you close my credit card account
        %banking I want to close the joint account, we've split up
        %mobile @UK can I get my PAC code, I'm leaving
        %mobile I want to move my number to another network and end the contract
        %streaming I'd like to cancel the free trial before it starts charging
        %software I'd like to cancel the free trial before it starts charging
        %utilities I've moved out, so can you close the account at my old address
        %insurance I've sold the car so I need to cancel the insurance
        %insurance I'd like to cancel my home insurance, I've sold the house
        %ecommerce please cancel my membership and stop the monthly payments
        %streaming I want to unsubscribe from the premium tier
        %broadband I need to cancel the broadband at my old address
        %software can you cancel our team plan at the end of the month
        %streaming how do I stop the subscription renewing every month
    """),
    nnw=L("""
        what's the cancellation fee
        is there a penalty for ending early
        how much would it cost to leave before the contract ends
        will I be charged if I cancel now
        what's the notice period for cancelling
        is there an early termination charge on {svc}
        what happens to my email address if I cancel
        can I cancel without a fee if I'm moving abroad
        how many days notice do I need to give to cancel
        %broadband if I cancel, do I have to send the router back
        what's the exit fee if I leave now
        do I lose anything if I close {svc} early
        is there a cooling off period if I cancel
        would I be charged for breaking the contract
        %banking what happens to the money left in the account if I close it
        can I cancel even though the contract hasn't finished
        is there a cancellation charge for {svc}
        do I still have to pay for the rest of the month if I cancel today
        is there a fee to cancel {svc} early
    """),
    griev=L("""
        I've been a customer for {years} years and I'm paying more than new customers, so I'll be leaving
        I've decided not to renew after everything that's happened this year
        I've given it {dur} to get better and it hasn't, so I'd like to end the contract
        I asked to cancel last month and the account's still open
        I sent a cancellation email {dur} ago and nothing's happened
        I've tried to cancel online {times} and the button just takes me back to the offers page
        the contract's up next month and I won't be staying
        the price has gone up twice this year, so I'll be cancelling
        %broadband it's dropped out every evening for a month, so I'd rather just end it
        I was told cancelling would be simple, and this is my {nth} call about it
        %broadband I only signed up for the faster speeds and I never got them, so I want out
        I've found somewhere that actually works, so I'll be going
        there's no point paying for something I can't use, so I'm cancelling
        I was told I could cancel any time, and now there's a fee
        I don't see the point staying if this keeps happening
        I've been passed to retentions {times} and I just want it closed
        I've already said no to the offers, I just want to cancel
        after the way my last complaint was handled, I'm closing the account
        it hasn't worked properly since {month}, so I'm going to end it
        I was charged a renewal I didn't agree to, so I'd like to cancel before it happens again
        I've been asking to leave for {dur} and I'm still a customer
    """),
    sarc=L("""
        I have to pay {money} just to leave
        signing up took two minutes and leaving takes three phone calls
        the cancel button takes me to yet another offer
        cancelling is apparently harder than getting a mortgage
        I've been put through to retentions again
        the price went up again, right on time
        I'm still paying for a contract I asked to end a month ago
        the only way to cancel is a phone line that's never open
        I've been "saved" by the retentions team twice now
        my cancellation has been "noted" again
    """),
    pos=L("""
        you've been great, but we're moving abroad so I need to cancel {svc}
        honestly no complaints, I just don't use it anymore, so could you cancel {svc}
        the service has been brilliant, I just can't justify the cost right now, so I'd like to cancel
        I've loved being with you, but my work gives me a phone now, so I need to end {svc}
        you've been so helpful over the years, it's just we're moving in with my partner's parents, so can you close {svc}
        thanks so much for all your help, could you go ahead and close {svc} from Friday
        that's perfect, thank you, so if you can just process the cancellation that'd be great
        it's been a lovely service, honestly, but I need to cancel {svc} as I'm going travelling
    """),
    short={
        "neutral": L("""
            cancel it
            cancel my account
            cancel please
            I want to cancel
            close my account
            cancellation please
            end my contract
            cancel the subscription
            cancel my membership
            I'd like to cancel
            cancel the policy
            cancellations
        """),
        "negative": L("""
            just cancel it
            cancel the lot
            that's it, cancel it
            I'm done, close it
            just close it down
            cancel everything please
            no, just cancel it
        """),
    },
    story=L("""
        we've had {svc} for about {years} years
        my daughter's moved out and she was the main one using it
        we're moving in with my partner's parents for a bit
        I got a letter saying the price is going up in {month}
        I'm retiring next month so I'm cutting back on a few things
        I've been going through all our direct debits
        we're selling the house at the end of {month}
        I only really signed up for the free trial
    """),
)

INTENTS["refund_request"] = dict(
    domains=ALL_DOMAINS,
    req=L("""
        I'd like a refund for {refund_for}
        can I get my money back for {refund_for}
        can you refund {refund_for}
        when will my refund come through
        %ecommerce I sent my {item} back on {weekday}, when will I get the money
        how long does a refund take to show on my card
        is my refund on its way
        can you check if the refund has been processed
        I was told I'd be refunded, can you check the status for me
        can you put the money back on my card please
        can you refund it to the card I paid with
        could I get a partial refund for {refund_for}
        I'd like to claim back {refund_for}
        %ecommerce can I have the delivery charge refunded
        can you reimburse me for {refund_for}
        I'd rather have a refund than a replacement
        can I get store credit instead of a refund
        the refund reference is {ref}, can you check on it
        %ecommerce I need to request a refund for order {ordernum}
        I cancelled within the cooling off period, so I'd like a refund
        %airline my flight was cancelled, how do I get a refund
        %insurance can I get a refund for the unused months on my policy
        can you credit my account for {refund_for}
        has my refund been approved yet
        where's my refund for {refund_for}
        is the refund going back to my card or my account
        can you send the refund to a different card, the old one's expired
        what's the status of my refund
        %ecommerce I'd like a refund on the {dev} I bought last week
        %ecommerce I need a returns label so I can get a refund
        how do I get a refund for {refund_for}
        %ecommerce I want to send the {item} back for a full refund
        can the refund go to my bank account instead
        I'd like my money back for {refund_for}
        %ecommerce can you tell me when the refund for order {ordernum} will be paid
        I'd like to be refunded for {refund_for}
        please process a refund for {refund_for}
        %ecommerce I've returned the {item}, can you confirm the refund's gone through
        is it possible to get a refund for {refund_for}
        @IN kindly refund the amount for {refund_for}
        @IN what is the status of my refund, the reference number is {ref}
        @AU reckon I could get a refund for {refund_for}
        can you issue a refund for {refund_for} please
        I think I'm owed a refund for {refund_for}
        I was charged twice, can I get one of the payments back
        %airline can I get a refund on the bag fee, I didn't check a bag in the end
        %streaming I forgot to cancel the trial, is there any chance of a refund
        %software I bought the wrong version, can I get a refund and buy the right one
        can you tell me how much I'll get back for {refund_for}
        I'd like to request a refund please
        how long until I see the money for {refund_for}
        can you let me know when the refund will land
        could you check whether my refund has been sent
        I'd like the {money} back please
        has the refund for {refund_for} been paid yet
    """),
    nnw=L("""
        what's your refund policy for faulty items
        can I get a refund if the item arrives damaged
        %airline do you give refunds if the flight is delayed
        how do I send back a faulty item for a refund
        what if I've lost the receipt, can I still get a refund
        can I get a refund if I cancel halfway through the subscription
        is there a fee for returning something
        %ecommerce how long do I have to return a faulty {dev}
        do you refund the postage if the item is broken
        can I still get a refund after 30 days
        what happens if the refund goes to a closed account
        can I get a refund if I'm not happy with it
        are refunds ever refused
    """),
    griev=L("""
        it's been {dur} since I returned it and I still haven't had my money back
        the refund still isn't showing on my account
        I was told three to five working days and it's now been over {n_weeks}
        you confirmed you got the return on {date} and there's still nothing
        I was promised a refund on the phone last {weekday}
        I've got an email saying the refund's approved, but no money
        I've been waiting since {date} for this refund
        I paid for it and never received it, so I want my money back
        the refund came through but it's {money} short
        the refund went to a card I cancelled months ago
        I sent it back by tracked post and it was signed for on {weekday}, but no refund
        I was told I'd get the delivery charge back too, and I didn't
        this is the {nth} time I've asked about this refund
        I've returned it twice now because the first return went missing
        I was told the refund was issued, but my bank says nothing's come in
        the refund was meant to be done by the end of last week
        I've sent the proof of postage {times} now
        the refund has said pending for {dur}
        I've paid for a month I couldn't use and nobody's offered anything back
        it was faulty from day one and I've been waiting {dur} for my money
        I returned it on {date} and I'm still out of pocket
        %ecommerce the parcel turned up a week late, so I'd like the delivery charge back
        %ecommerce I paid for next day delivery and it took {n_days}, so I think I'm owed the delivery fee back
        %airline my flight was cancelled on the day and I've had nothing back yet
        %ecommerce it came {n_days} late, so I'd like the shipping cost refunded
    """),
    sarc=L("""
        the refund is still "being processed"
        you took the money in seconds but the refund takes {n_weeks}
        my refund is apparently on a world tour
        the refund's "on its way", same as last {weekday}
        the returns label doesn't work, so I can't even send it back
        I've got my fourth "sorry for the delay" email and no money
        the refund went to a card that doesn't exist anymore
        the refund finally came through and it's {money} short
    """),
    pos=L("""
        the return was really easy, thank you, I'm just checking when the refund will land
        you've been so helpful, can you just confirm the refund's gone through
        that's brilliant, so the refund should be with me by {weekday}
        great service as always, I just need a refund on {refund_for}
        the lady in the shop was lovely, she said to call you about the refund for {refund_for}
    """),
    short={
        "neutral": L("""
            refund please
            I want a refund
            money back please
            where's my refund
            refund status
            a refund please
            I'd like a refund
            refund for my order
            is my refund done
        """),
        "negative": L("""
            still no refund
            still waiting on my refund
            where's my money
            no refund yet, again
            refund still missing
        """),
    },
    story=L("""
        I bought it on the website a couple of weeks ago
        I printed the returns label off your site
        I dropped the parcel at the post office on {weekday}
        I kept the receipt
        it didn't fit so I sent it back
        it was a present but it wasn't quite right
        I got a confirmation email saying you'd received it
        I paid on my credit card
    """),
)

INTENTS["complaint"] = dict(
    domains=ALL_DOMAINS,
    plain=L("""
        how do I make a complaint
        who do I send a complaint to
        can I get a reference number for my complaint
        I'm calling about complaint reference {ref}, is there an update
        I'd like to check on a complaint I made last week
        how long do complaints usually take to be looked at
        is there an email address for complaints
        I'd like to give some feedback about my last call
        do you have a complaints department
        {onsite}where can I leave feedback about the {tech} visit
        I got a letter about my complaint, can you explain what it means
        can you tell me who's handling my complaint
        has my complaint been passed to the right team
        what's the next step with my complaint
        can I add some information to my open complaint
        is there a form for making a complaint online
        I'd like to find out what happened with the complaint I made in {month}
        @IN what is the status of my complaint, the number is {ref}
        can I make a complaint by email instead of on the phone
        do I need to put my complaint in writing
        where do I send feedback about a member of staff
        how do I get a copy of my complaint letter
        how do I escalate a complaint
        can you email me the complaint reference
        has anyone looked at my complaint yet
        I sent a complaint letter last month, can you check it arrived
        how long will it take to get a response to my complaint
        who's the right person to send feedback to about the installation
        I'd like to follow up on the complaint I made on {weekday}
        can you confirm my complaint has been logged
        is my complaint still open
        I'm calling to follow up a complaint, the reference is {ref}
        can you read me the notes on my complaint
        I'd like a copy of the final response to my complaint
        can my complaint be handled by email
        I'd like to withdraw my complaint, it's been sorted now
        what's the address for complaints
        @US how do I file a complaint
    """),
    req=L("""
        I'd like to make a formal complaint
        can you log this as a complaint
        I want this put on record as a complaint
        I'd like to raise a complaint about how this has been handled
        can I have a complaint reference please
        I want to complain about the service I've had
        please note this down as a complaint
        I'd like someone to look into how my case was handled
        I want a written response to this
        I'd like this treated as a formal complaint
        I want to know why nobody followed it up
        I'd like an explanation of what went wrong
        I want this escalated as a complaint
        can you put a formal complaint in for me
        I'd like my complaint passed to the complaints team
        {onsite}I want a complaint raised about the {tech} visit
        I want to make a complaint about how long this has taken
        I'd like to complain about the callback that never happened
        I want this logged and I want a response in writing
        I'd like to register a complaint
        please raise this as a complaint today
        I want to complain about the person I spoke to yesterday
        @US I'd like to file a complaint
        @IN I want to raise a complaint against the executive I spoke to
    """),
    nnw=L("""
        what do I do if I'm not happy with the outcome of a complaint
        {onsite}how do I complain about a {tech} visit
        is there an ombudsman I can go to if a complaint isn't resolved
        what counts as a formal complaint
        how long do I have to wait before I can escalate a complaint
        can I complain on behalf of my mum
        is there a time limit for raising a complaint
        where do I report bad service in one of your stores
        how do complaints get escalated
        what happens after I make a complaint
    """),
    griev=L("""
        I was on hold for {hold} and then got cut off
        the person I spoke to yesterday put the phone down on me
        I've been transferred {times} on this call already
        the agent on the chat closed the chat while I was still typing
        I was given three different answers by three different people
        nobody has replied to the email I sent {dur} ago
        I asked for a callback and got a text instead
        {onsite}the {tech} was booked for {weekday} morning and never turned up
        {onsite}the {tech} left without finishing the job
        {onsite}the installer drilled through the wrong wall
        the staff in the shop told me to call you, and you told me to go back to the shop
        {onsite}I've had two appointments cancelled on the day
        the agent said he'd note it on the account, and there's nothing there
        I was told my complaint would be answered within eight weeks and it's been ten
        the driver was rude to my elderly mother
        I had to explain my situation five times before anyone listened
        the person I spoke to didn't seem to know anything about the product
        I was promised a goodwill credit and it never appeared
        the queue message said a few minutes and I waited {hold}
        your agent told me to switch it off and on and then ended the call
        I was sold this on the basis of something that isn't true
        {onsite}the {tech} turned up four hours late and didn't have the right parts
        the automated line keeps sending me round in circles
        I've been waiting {dur} for someone to ring me about my case
        the manager I was promised never called
        you sent my letters to my old address after I updated it twice
        the case was closed and nobody asked me if it was actually fixed
        I keep being asked to verify my identity and then passed to someone who asks again
        {onsite}I booked the morning slot and waited in until 6 o'clock
        the lines closed while I was in the queue
        your colleague read me a script and didn't answer my question
        I asked for this in writing and I've had nothing
        I'd like to make a formal complaint about how my case has been handled
        {onsite}I want to log a complaint about the {tech} who came out on {weekday}
        I'd like to raise a complaint about the way I was spoken to
        I've been told {times} that someone would call me, and nobody has
        I was promised a callback on {weekday} and it never came
        the chat bot kept sending me the same help article
        I was cut off {times} while waiting to be transferred
        nobody from your side has followed up at all
    """),
    sarc=L("""
        another {hold} on hold
        the callback never came, again
        I've been transferred again
        the line went dead the second I got through
        nobody turned up, again
        another automated email telling me nothing
        I get to explain everything from the start again
        the chat bot sent me the same link for the fifth time
        I got cut off again after {hold}
        the appointment got cancelled the morning of, again
        the hold music is the only consistent thing about this company
        I've been told three completely different things today
        I got a survey asking how my call went before anyone solved anything
        thanks a lot for nothing
        I've now spoken to more of your staff than my own family this week
    """),
    short={
        "neutral": ["complaints please", "make a complaint", "complaint status", "complaints department"],
        "negative": L("""
            nobody called back
            no callback again
            another hour on hold
            I want to complain
            third call today
            cut off again
            nobody showed up
            you're not listening
            I'd like to complain
        """),
    },
    story=L("""
        I made a complaint back in {month}
        I spoke to someone called {name} last week
        I've got all the emails saved
        I wrote down the name of everyone I spoke to
        I'm not normally someone who complains
        I had an appointment booked for {weekday}
    """),
)

INTENTS["product_defect"] = dict(
    domains=["broadband", "broadband", "mobile", "mobile", "banking", "ecommerce", "ecommerce",
             "utilities", "streaming", "software", "airline"],
    frames=L("""
        {f}
        {f}, can you help
        {f}, what should I do
        {f}, is there a fix for that
        I've got a problem, {f}
        I'm having an issue where {f}
        @IN I am having one issue, {f}
        {f}, could you have a look
        {f}, can you run a test on it
        {f} and I'm not sure why
        {f}, is it something your end
        hi, {f}
        I'm calling because {f}
        {f}, is that a known problem
        so {f}, what do you suggest
        {f}, I've tried turning it off and on
        I think something's wrong, {f}
        just to let you know, {f}, can someone check it
        {f}, do I need a new one
        {f}, can you tell me what to try
        {f}, can you see anything on the system
    """),
    req=L("""
        my {dev} has stopped working
        my {dev} isn't working properly
        there's something wrong with my {dev}
        the {dev} won't switch on
        the {dev} I got last week isn't working
        the {dev} keeps freezing
        I think my {dev} is faulty
        the {dev} has developed a fault
        my {dev} is playing up, can you help
        can you help me with my {dev}, it's not working right
    """),
    nnw=L("""
        how do I report a fault with my {dev}
        what do I do if my {dev} stops working
        is there a known problem with the app at the moment
        is there an outage in my area
        how do I report a faulty product
        what should I do if the {dev} breaks down
        is there a problem with the network near me
        how do I check if my {dev} is faulty
        what's the process if something I bought is defective
        what should I do if the screen cracks on its own
        is there a fault on the line in my street
    """),
    griev=L("""
        this is the {nth} replacement and it's doing the same thing
        it's only {n_weeks} old and it's stopped working
        I've already done a factory reset {times}
        it was fixed in {month} and the same fault's come back
        I paid {money} for it and it lasted a month
        it's the same fault it had when I sent it in for repair
        the new one you sent has exactly the same problem
        it's been like this since the update on {weekday}
        I've been without a working {dev} for {dur}
        %broadband I work from home, so I've had to use my phone's data all week
        I've followed every step on your help page and it still doesn't work
        {onsite}the {tech} said it was fixed, and it went again the same evening
        it's gone wrong {times} this month
        this is the second one I've had from you with this fault
        I've had the {dev} less than a month and it's already faulty
        {onsite}it was working when the {tech} left and stopped an hour later
        it worked for two days and then stopped
        I've been resetting it every morning for {dur}
    """),
    fault_tail=L("""
        , again
        , for the {nth} time this month
        and it's been like that for {dur}
        , same as last week
        , even after the {tech} came out{onsite}
        and this is the second replacement
        , and I only had it fixed in {month}
        and I reported it {dur} ago
        , exactly like the last one did
        and nobody has been able to tell me why
        , and it's still doing it after the reset you told me to do
        and it's been doing it on and off since {month}
    """),
    sarc=L("""
        it's broken again
        the {dev}'s died again
        it's doing the exact same thing
        the replacement's broken too
        it lasted a whole {n_days}
        the new one doesn't work either
        the update has broken it again
        it worked for exactly one day
        it's back to doing what it did last week
        the "fixed" one is broken again
    """),
    pos=L("""
        you were really helpful last time, so I'm hoping you can help again, {f}
        I love the {dev} honestly, it's just that {f}
        the service has been great, it's only that {f}, is there a quick fix
        everything else is perfect, just {f}, can you help
    """),
    short={
        "neutral": L("""
            it's broken
            no signal
            screen's cracked
            app keeps crashing
            no internet
            router's not working
            card's not working
            no hot water
            it won't turn on
            no dial tone
            it's not working
            the internet's down
            the wifi's down
            it won't charge
        """),
        "negative": L("""
            still not working
            broken again
            it's died again
            dead again
            still no signal
            it's gone again
            not working again
            still broken
        """),
    },
    story=L("""
        I bought the {dev} from you in {month}
        it was working fine up until {weekday}
        I've tried turning it off and on again
        I've checked all the cables
        I had a look on the help pages
        my son had a go at fixing it as well
        it's the one that came with the contract
    """),
)

INTENTS["repair_request"] = dict(
    domains=ONSITE,
    req=L("""
        can you send {tech_a} to {tech_job}
        I need to book someone to {tech_job}
        can someone come out and {tech_job}
        I'd like to book an appointment to {tech_job}
        is there a slot this week for someone to {tech_job}
        how do I get my {rdev} repaired under warranty
        %mobile can I bring my {rdev} into a store to be fixed
        where's my nearest repair centre
        can you arrange a repair for my {rdev}
        I need to rebook the {tech} appointment for next week
        can you move my repair appointment to the afternoon
        can you send out {tech_a}
        my {rdev} is still under warranty, can I get it fixed
        what time is the {tech} coming tomorrow
        can you check what time the {tech} is due
        %ecommerce can I get a courier to collect the {rdev} for repair
        %utilities I'd like to book the annual boiler service
        how much would it cost to {tech_job}
        can you send someone on Saturday to {tech_job}
        I need {tech_a} to {tech_job}, when's the earliest you can do
        could I book a home visit to {tech_job}
        I'd like to arrange a repair
        can I get a repair booked in for my {rdev}
        do you do repairs if my {rdev} is out of warranty
        %ecommerce I need to book a warranty repair for order {ordernum}
        can I get a time slot for the {tech} visit
        @IN kindly arrange a technician visit to {tech_job}
        @US can you send a tech out to {tech_job}
        I've been told I need {tech_a} to {tech_job}, can you book that
        the help page says I need a repair, can you set that up
        can you book someone in to {tech_job} before Friday
        is it possible to get someone out today to {tech_job}
        can I change the address for the repair visit
        can I get a morning appointment for the {tech}
        %mobile how long does a screen repair take in store
        %mobile can I send my phone off for repair and get a loan phone
        %utilities the boiler needs looking at, can you send someone
        %broadband can you send an engineer, the line test says there's a fault outside
        I'd like someone to come and {tech_job}
        can you get {tech_a} booked in to {tech_job}
        I need a repair booking for my {rdev}
        when's the next available slot to {tech_job}
        can you arrange for someone to {tech_job} next week
        I'd like to book a repair for my {rdev}, please
    """),
    nnw=L("""
        what happens if the repair isn't covered by the warranty
        do you charge if the {tech} can't fix it
        what if nobody's home when the {tech} arrives
        is there a call-out fee if the fault's on my side
        how much does it cost if my {rdev} is out of warranty
        what if the part breaks again after the repair
        %mobile do I lose my photos if the phone goes off for repair
        is there a charge if the {tech} finds nothing wrong
    """),
    griev=L("""
        the {tech} was meant to come on {weekday} and I need it rebooked
        %utilities I've been without heating for {n_days} and the earliest slot is next week
        this is the {nth} appointment I've had to book for the same fault
        the {tech} came but didn't have the right part, so it still needs fixing
        it was repaired in {month} and it's gone again, so I need someone back out
        I was told the part would be in by {weekday} and I've heard nothing
        the earliest slot you've offered me is {n_weeks} away
        I sent it off for repair {dur} ago and haven't heard a thing
        I've taken three days off work waiting for repairs
        the last repair only lasted a week, so I need it looked at again
        I was told a {tech} would call to book a slot and nobody has
        the repair centre sent it back with the same fault
        %utilities I've had to buy a heater while I wait for the repair
        I've been without a working {rdev} for {dur} and I still don't have a date
    """),
    sarc=L("""
        the {tech}'s not coming again
        the earliest slot is next month
        another day waiting in for nobody
        the repair lasted a whole week
        the {tech} turned up without any tools
        they sent it back "repaired" with the same fault
        I've booked more appointments than I've had hot dinners
    """),
    pos=L("""
        the {tech} last time was brilliant, could I get him back out to {tech_job}
        you were so quick last time, can I book another visit to {tech_job}
    """),
    short={
        "neutral": L("""
            book a technician
            book an engineer
            book a repair
            I need an engineer
            repair please
            send a technician
            engineer visit please
            I need a repair
            repair booking
        """),
        "negative": ["still waiting on the repair", "the repair didn't work", "needs fixing again",
                     "still not repaired"],
    },
    story=L("""
        it's been making a funny noise for a while
        I've had it about {years} years
        it's still under the extended warranty
        I've got the paperwork from when it was installed
        I'm around all day {weekday}
    """),
)

INTENTS["order_status"] = dict(
    domains=SHIPPING,
    req=L("""
        where is my order
        can you tell me where my order is
        has my order shipped yet
        when will my {item} arrive
        can you check the status of order {ordernum}
        I placed an order on {weekday}, has it been sent out yet
        what's the tracking number for my order
        is my {item} out for delivery today
        what time will the driver come
        can I get an update on my order
        when's my {item} going to be delivered
        %banking has my new card been sent out yet
        when can I expect the {item}
        is there an estimated delivery date for order {ordernum}
        can you check if my order's been processed
        I'd like to know when my order will ship
        which courier is delivering my order
        can I track my {item}
        will my {item} arrive before the weekend
        I placed an order last night, can you check it went through
        can you confirm my order was placed
        %mobile has my SIM been posted
        is the {item} on its way
        %banking when will my replacement card arrive
        has my order left the warehouse
        is my order still on track for {weekday}
        can you give me a delivery window for my {item}
        I'd like to check on my order, the number is {ordernum}
        has the {item} been dispatched
        what day is my {item} due
        do you know roughly when my {item} will turn up
        can you see whether my order has been packed yet
        how long does delivery usually take once it's shipped
        will I get a text before the {item} arrives
        is it coming by post or by courier
        @IN what is the status of my order {ordernum}
        @IN kindly share the tracking details for my order
        @US can you tell me when my package will be delivered
        @AU just wondering when my parcel's gonna turn up
        will the {item} need a signature when it comes
        %software has the licence key been emailed yet
        is my order ready to collect from the store
        when will my {item} be sent out
        can you tell me what stage my order is at
        has my {item} been posted
        what's the expected delivery date for my {item}
        could you check when order {ordernum} will arrive
        is my {item} coming today or tomorrow
        %insurance when will my policy documents be posted
        can you tell me if my order's been picked yet
    """),
    nnw=L("""
        what happens if I'm not in when the {item} arrives
        what if the tracking number doesn't work
        can I still change the delivery address if it's already shipped
        what happens if the parcel can't be delivered
        what if nobody's in to sign for it
        what if the driver can't find my house
    """),
    griev=L("""
        nobody seems to be able to tell me anything about my order
        the website and the app show two different statuses
        I've asked {times} and never got a straight answer about where it is
        the tracking link in the email doesn't work
        the last person couldn't even find the order on the system
        I was given a tracking number that doesn't exist
    """),
    sarc=[],
    pos=L("""
        that's great news, and when will the {item} actually arrive
        brilliant, thanks, and could you check when my other order's coming too
        the website's so easy to use, I just wanted to check when my {item} will come
        oh lovely, and has the {item} been posted yet
    """),
    short={
        "neutral": L("""
            where's my order
            order status please
            has it shipped
            tracking number please
            when's it coming
            is it on its way
            delivery date please
            track my parcel
            order update please
        """),
    },
    story=L("""
        I ordered it on the website on {weekday}
        it's a birthday present for my son
        I paid for standard delivery
        I got the confirmation email
        I'm going away on {weekday}
        I need it for a wedding at the weekend
        the website said three to five days
    """),
)

INTENTS["delivery_problem"] = dict(
    domains=SHIPPING,
    plain=L("""
        the tracking says delivered but it's not here, can you check
        my parcel says delivered but I can't find it anywhere
        I've received the wrong item
        one of the items is missing from my order
        the box arrived damaged, what do I do
        the driver left my parcel at the wrong address
        my order came with a part missing
        I've been sent someone else's parcel
        my parcel was left with a neighbour but I don't know which one
        the {item} arrived broken
        I've only received half of my order
        %banking my new card hasn't arrived yet
        %mobile the SIM you sent hasn't come yet
        the parcel was left outside in the rain and it's soaked
        the package was open when it arrived
        there's a different item in the box
        the box was empty when I opened it
        I got two of the same thing and not the other item
        the parcel's been sent back to the depot, can I rearrange delivery
        the courier says they tried to deliver but I was in
        I think my parcel's been delivered to the wrong house
        the tracking shows my parcel in a different city
        I need to report a missing parcel
        the delivery photo shows a door that isn't mine
        the {item} came with a dent in the side
        the label on my parcel has the wrong postcode on it
        my parcel's marked as undeliverable, what does that mean
        %banking the card you posted never arrived
        the driver left the parcel in my bin
        %ecommerce the sofa arrived with a tear in the fabric
        %ecommerce half the mugs arrived smashed
        the courier's lost my parcel, what happens now
        my parcel says it was handed to a resident, but nobody here got it
        @IN my parcel is showing delivered but I have not received it
        @US the package says delivered but it's not on my porch
        @AU the parcel's gone walkabout, tracking says delivered but it's not here
        %insurance my policy documents haven't turned up in the post
        %software the activation email never came through
        the courier's marked my {item} as delivered but I haven't got it
    """),
    req=L("""
        can you send a replacement
        can you chase the courier for me
        can you find out where it actually is
        I need it redelivered
        can you resend the order
        can you send it out again by next day delivery
        can you arrange a collection for the damaged one
        I'd like a replacement sent out
        can you open an investigation with the courier
        can you get it delivered to my work instead
        where is it
        when is it actually going to arrive
        where's my {item}
        when will my {item} turn up
        can you tell me where my order is
        has it even been sent
    """),
    nnw=L("""
        what happens if my parcel gets lost
        what do I do if something arrives damaged
        what if the parcel is stolen from my doorstep
        who's responsible if the courier breaks something
        what's the process if an item is missing from a delivery
        how long do I wait before reporting a parcel as lost
    """),
    griev=L("""
        it was supposed to arrive on {weekday} and it still hasn't come
        it's a week late
        the tracking hasn't moved since {weekday}
        I paid for next day delivery and it's been {n_days}
        I waited in all day and it never came
        it's been "out for delivery" three days in a row
        it's been {dur} and the tracking still says processing
        it's marked as delivered and it's not here, and this is the second time
        I was told a new one would be sent out {dur} ago
        it came a week late and the box was crushed
        the delivery was booked for {weekday} and nobody turned up
        I took the day off for the delivery and nobody came
        it turned up {n_days} late, after the party it was for
        the replacement you sent is missing as well
        I've been waiting since {date} for this order
        %banking my card was meant to be here {dur} ago
        I was promised it'd be here before the weekend
        it's gone missing {times} now
        the courier keeps saying nobody was home, but I've been in all day
        I've chased this with the courier and they sent me back to you
        the parcel came a week late
        it's now {n_days} past the delivery date
        I ordered it on {date} and it's still not here
        the {item} still hasn't arrived
        the delivery date has been pushed back {times}
    """),
    sarc=L("""
        the parcel's been "out for delivery" for three days
        it's been delivered to someone, just not me
        the box arrived looking like someone sat on it
        the courier "tried to deliver" while I was sitting by the door
        my parcel's seen more of the country than I have
        the tracking's been stuck at the same depot for a week
        the driver left it on the doorstep in the pouring rain
        the next day delivery took a week
    """),
    pos=L("""
        the driver was lovely, but I think he left me the wrong parcel
        you've always been great with deliveries, so it's odd, but one item's missing from my order
        the {item} looks great, it's just one of the bits is missing, could you send it
    """),
    short={
        "neutral": ["parcel missing", "wrong item", "it's damaged", "item missing", "wrong parcel",
                    "missing item", "box was damaged", "not delivered"],
        "negative": L("""
            still no parcel
            it never came
            still not here
            parcel's still not here
            still waiting for my order
            it's late again
            still no delivery
        """),
    },
    story=L("""
        I ordered it on the website on {weekday}
        it was for my daughter's birthday
        the tracking said it was with the courier
        I paid for the faster delivery
        I got a text saying it was on its way
        I've checked with all the neighbours
        I had a look round the back and in the shed
    """),
)

INTENTS["billing_question"] = dict(
    domains=ALL_DOMAINS,
    req=L("""
        can you explain {charge} on my bill
        what's {charge} on my statement for
        why have I got {charge} on my bill
        I don't understand {charge} on this month's bill
        can you tell me what {charge} is
        I've got a question about {charge}
        can you go through {charge} with me
        why is {charge} on my account
        is {charge} a one-off
        can you check whether {charge} is right
        why has my bill gone up this month
        I don't recognise a charge of {money} on my statement
        I think I've been charged twice this month
        what's this {money} charge for
        can you go through my latest bill with me
        when is my bill due
        how much do I owe this month
        can I get a copy of my last statement
        there's a payment to you on my card I don't recognise
        can I change the date my bill comes out
        how is the part-month charge worked out
        can you send my bills by email instead of post
        %banking what's the minimum payment on my card this month
        why is this month's bill higher than usual
        @UK is VAT included in that price
        I got a bill for {money}, can you tell me what it's for
        can I pay my bill over the phone
        can I set up a payment plan for my bill
        what's the balance on my bill
        why was I charged an admin fee
        %utilities I think the meter reading on my bill is wrong
        %utilities I've been billed on an estimate, can I give you a reading
        why is my direct debit {money} when my plan's {money2}
        there are two direct debits to you this month, why is that
        can you tell me when my next bill is due
        can you break down this month's charges for me
        I was charged {money} but I thought the plan was {money2}
        when does the discount come off my bill
        can you explain the difference between my bill and my direct debit
        is there a charge for paper bills
        I think there's a mistake on my bill
        @IN kindly explain the extra charges on my bill
        @US I've got a question about a charge on my statement
        can you send me an itemised bill
        when will this month's bill be ready
        can you tell me what I'm paying each month
        I'd like to understand why my bill changed
        can you confirm how much my next bill will be
        there's a {money} charge I wasn't expecting, what's that for
        why am I paying {money} when I was quoted {money2}
    """),
    nnw=L("""
        can you explain how the late payment fee works
        %mobile what's the charge if I go over my data
        do you charge a fee for paying by card
        what happens if I miss a payment
        is there a fee for paper statements
        what's the penalty for paying late
        how much is the fee if a direct debit bounces
        %banking what are the overdraft charges
        do I get charged for calling this number
        %banking is there an extra charge for using my card abroad
        is there a fine if my bill is paid a few days late
    """),
    griev=L("""
        I've been charged twice again this month
        this is the {nth} month in a row the bill's been wrong
        I was told the price wouldn't change for 24 months
        I was promised the extra charge would be taken off and it's back again
        I was quoted {money} a month and I'm paying {money2}
        I'm still being charged for a package I cancelled in {month}
        I was told the credit would be on this bill and it isn't
        I've been overcharged for {n_months} months now
        the bill's gone up by {money} without any letter or anything
        you've taken the payment twice and now I'm overdrawn
        {charge} is still on my bill and I was told it had been waived
        I've been billed for a month when I had no service
        the bill still shows the old price after I was told it was changed
        my direct debit went up and nobody told me
        I've asked for an itemised bill {times} and never received one
        I'm paying for a line I don't have
        {charge} is still there and I was told it would stop in {month}
    """),
    sarc=L("""
        I've been charged twice again
        my bill's gone up again without a word
        there's another surprise fee on my bill
        I'm now paying more for less
        you've charged me for a month I didn't even have the service
        the "fixed" price has gone up for the third time
        I get charged for calling to ask about the charges
    """),
    pos=L("""
        the new bill looks much better, thank you, I just had one question about {charge}
        the app makes the bills really clear, I just wanted to check {charge}
    """),
    short={
        "neutral": ["my bill please", "question about my bill", "billing enquiry", "explain my bill",
                    "why the extra charge", "billing please", "my balance please", "bill query"],
        "negative": ["charged twice again", "wrong bill again", "overcharged again",
                     "still the wrong amount"],
    },
    story=L("""
        I was looking through my statement last night
        I usually pay by direct debit
        my bill is normally about {money}
        I changed my package a couple of months ago
        I've got the bill open in front of me
        my partner noticed it on the banking app
    """),
)

INTENTS["payment_problem"] = dict(
    domains=ALL_DOMAINS,
    req=L("""
        my card payment keeps getting declined
        I tried to pay my bill online and it failed
        the payment won't go through on your website
        my direct debit didn't go out this month
        I made a transfer and it's showing as pending
        my top-up didn't go through
        the payment's left my account but it's showing as unpaid
        %banking I sent money to my friend and she hasn't received it
        %banking my card was declined in a shop but I've got money in the account
        the app says payment failed when I try to renew
        I paid by bank transfer but it's not showing on my account
        %banking the cash machine didn't give me the money but it's come out of my account
        why did my payment bounce
        I keep getting an error on the payment page
        %mobile my top-up has been reverted
        the payment was returned, can you tell me why
        I can't add my new card to pay
        %banking the standing order didn't go through
        the payment link you sent doesn't work
        my payment is stuck on processing
        it says my card isn't accepted
        %airline the booking didn't go through but the money's gone
        %banking the transfer to my landlord hasn't arrived
        %banking my international transfer hasn't arrived
        I can't pay my bill because my card keeps being rejected
        @IN my UPI payment failed but the amount was debited
        @IN the payment got debited but it shows failed
        my payment's been pending since this morning
        the card machine said declined but my bank says it went through
        the direct debit bounced, can you tell me why
        I tried to pay the renewal and it keeps saying try again later
        can you take the payment over the phone, the website won't accept it
        the payment I made hasn't shown up on the account
        why is my payment still pending
        %banking the money I paid in at the branch isn't showing
        the top-up says successful but the balance hasn't changed
        %banking my transfer got declined, why would that be
        I need to make a payment but the app won't let me
        the renewal payment failed, can I pay another way
        my card keeps getting rejected when I try to pay
        I've made a payment and it's not showing, can you check
        the payment failed halfway through, has it gone through or not
        can you tell me why my payment was declined
        I'm trying to pay but it keeps timing out
        the payment hasn't cleared, is there a problem
        %banking a payment I made yesterday is still showing as pending
        %mobile my top-up keeps failing
        %utilities my prepayment top-up didn't go through
        %streaming my subscription payment was declined
        %software the renewal payment didn't go through
        %ecommerce my payment keeps failing at the checkout
        %airline the payment for my booking keeps getting declined
        %insurance my monthly premium payment failed
        the bank says the payment left my account but you say you haven't had it
        my card's been declined twice on your website today
        the payment page just keeps loading
        I got a text saying my payment was unsuccessful
        the direct debit was returned unpaid, what do I need to do
        I paid by card over the phone but it hasn't gone through
        I tried paying with a different card and that was declined too
        can you check why my card was refused
        %banking my payment to the council got rejected
        %banking the transfer's been held, can you tell me why
        I'm trying to pay my bill but it won't accept my card details
    """),
    nnw=L("""
        what happens if my payment fails
        how long can a payment stay pending
        why would a payment be declined if there's money in the account
        what happens if the direct debit fails this month
        what should I do if a transfer doesn't arrive
        can a payment be declined because of a wrong postcode
    """),
    griev=L("""
        I've tried {times} and it keeps getting declined
        the money left my account {n_days} ago and it still hasn't arrived
        my rent was due yesterday and the transfer's still pending
        I was told it'd clear in 24 hours and it's been {n_days}
        the payment failed and now I've been hit with a late fee
        it's the {nth} month in a row the direct debit has failed on your side
        I've had to pay my landlord in cash because the transfer never arrived
        I've been told twice it's my bank and my bank says it's you
        the payment's been pending for {dur}
        I've changed cards {times} and it still won't go through
        the card was declined in the shop in front of a queue of people
        I've been told it's fixed {times} and it's still being declined
    """),
    sarc=L("""
        declined again
        the payment's been pending for the fifth day running
        the money's left my account but hasn't arrived anywhere
        the website takes my details and then times out
        "payment failed, try again later", for the tenth time
        my card works everywhere except with you
    """),
    pos=L("""
        you've been really patient with me, thank you, can you check whether my payment has gone through
        you've been so helpful today, could you just check the payment went through
    """),
    short={
        "neutral": ["payment declined", "card declined", "payment failed",
                    "my payment didn't go through", "transfer pending", "top-up failed",
                    "payment issue"],
        "negative": ["declined again", "still pending", "failed again", "still not gone through"],
    },
    story=L("""
        I tried on the app first and then on the website
        I've got plenty of money in the account
        I checked with my bank and they said it's fine their end
        I was trying to pay before the due date
        I've used the same card for years
    """),
)

INTENTS["account_access"] = dict(
    domains=["banking", "banking", "streaming", "software", "ecommerce", "mobile", "utilities",
             "airline", "broadband", "insurance"],
    req=L("""
        I can't log in to my account
        I've forgotten my password
        my account's been locked
        I'm not getting the verification code
        how do I reset my PIN
        it says my password's wrong but I know it's right
        I need to change the email I log in with
        the one-time passcode never arrives
        %banking my PIN's been blocked after too many tries
        I've changed my number so I can't get the security code
        how do I verify my identity
        the app won't let me sign in
        it keeps asking me to verify my identity
        I got locked out after the update
        can you unlock my account
        I don't know my username
        my login details don't work on the new app
        I need to reset my security questions
        I can't remember the answer to my security question
        %banking my online banking's been suspended
        why has my account been blocked
        the password reset link has expired
        I set up two-factor and then lost my phone
        my account says it's been disabled
        I can't get into my email to reset the password
        the reset email isn't coming through
        %banking how do I change my PIN
        can you send me a new activation code
        I've been logged out and can't get back in
        it says my account doesn't exist when I try to log in
        I need to get back into my account, I've forgotten everything
        can you reset my login for me
        I'm stuck on the verification step
        my ID verification keeps getting rejected
        the app says too many attempts, try later
        I can't log in on my new phone
        can you help me get into my account
        @IN I am unable to login to my account
        @IN my account is locked, kindly unlock it
        @US I'm locked out of my account, can you help
        @AU mate, I can't get into my account
        how do I change my password
        I can't get past the security check
        can you help me reset my password
        the verification text goes to my old number
        I need to unlock my online account
        what do I need to verify who I am
        %banking can you unblock my card PIN
        %streaming I can't sign in on my TV
        %software my licence login isn't working
        %ecommerce I can't log into my account on the website
        %mobile I can't get into my account on the app
        %utilities I can't log in to send my meter reading
        %airline I can't get into my frequent flyer account
        %insurance I can't log in to see my policy
        I'm not receiving the login code by text
        the verification email goes to an old address
        my account got locked when I tried to log in
        the app keeps saying session expired when I log in
        it won't accept my date of birth at the security check
        I need help with my password
        I can't remember which email I signed up with
        can you help me log in
    """),
    nnw=L("""
        what happens if I enter my PIN wrong three times
        how long does an account stay locked for
        what should I do if I forget my password
        does my account get blocked if I fail the security check
        what if I lose the phone I use for the security codes
        how do I stop my account getting locked again
    """),
    griev=L("""
        I've reset my password {times} today and it still won't let me in
        I've been locked out for {n_days}
        I was told the account would be unlocked within 24 hours
        I've verified my identity {times} already
        I sent my ID in {dur} ago and it's still not verified
        I can't pay my bills because I can't get into the account
        the code has been "on its way" for the last hour
        I've been through the security questions on every call and I'm still locked out
        the reset link sends me back to the login page every time
        I was told the fix would be on my account by {weekday}
        I've been without online access for {dur}
    """),
    sarc=L("""
        I'm locked out again
        the security code took an hour to arrive
        I need to log in to the app to reset the password for the app
        my password's apparently wrong again
        I've verified my identity more times than I've logged in
        the "instant" code arrived after it expired
    """),
    pos=L("""
        you sorted my login so quickly last time, I'm hoping you can help again, I've forgotten my password
        the new app's great, I just can't remember my PIN
    """),
    short={
        "neutral": ["locked out", "password reset please", "forgot my password", "can't log in",
                    "reset my PIN", "login problem", "I'm locked out"],
        "negative": ["locked out again", "still can't log in", "still no code"],
    },
    story=L("""
        I got a new phone at the weekend
        I haven't logged in for a few months
        I changed my email address last year
        I tried the forgotten password link
        my husband set the account up originally
    """),
)

INTENTS["plan_change"] = dict(
    domains=["broadband", "broadband", "mobile", "mobile", "banking", "utilities", "insurance",
             "streaming", "software", "ecommerce"],
    frames=L("""
        I'd like to {feat}
        can I {feat}
        is it possible to {feat}
        how do I {feat}
        I want to {feat}
        I'm looking to {feat}
        I was hoping to {feat}
        what do I need to do to {feat}
        can you help me {feat}
        I've been thinking I'd like to {feat}
        would it be possible to {feat}
        I'm calling to {feat}
        how much would it cost to {feat}
        what would my bill be if I {feat}
        @IN I want to {feat}, kindly guide me
        @AU reckon I could {feat}
        could I {feat} from next month
        I need to {feat}
    """),
    req=L("""
        can I upgrade my {plan}
        I'd like to downgrade my {plan}
        I want to change my {plan}
        what other {plan} options can I move to
        can I switch to a cheaper {plan}
        I'd like to move to a bigger {plan}
        can you change my {plan} from next month
        I'd like to add something to my {plan}
        can I change my {plan} without extending the contract
        @US I'd like to switch my {plan}, can you help me with that
        I want to make a change to my {plan}
    """),
    nnw=L("""
        is there a fee for downgrading
        will I be charged if I change my {plan} mid contract
        do I lose my discount if I downgrade
        what's the penalty for switching tariffs early
        is there a charge to remove a line
        can I drop my data without a fee
    """),
    griev=L("""
        I asked to downgrade last month and I'm still on the old {plan}
        I was promised the upgrade would be done by {weekday}
        %broadband I've been paying for the top package for {dur} and getting the basic speed
        I was told the new {plan} would start on {date} and it hasn't
        new customers are getting this for half what I pay
        the add-on I asked for still isn't on the account
        I was told I could change without extending the contract, and now I'm told I can't
        my bill went up after the upgrade but nothing's actually changed
        I've asked {times} to take the extra off and it's still there
        I was moved onto a more expensive {plan} without being asked
    """),
    sarc=L("""
        the upgrade I asked for turned into a downgrade
        my bill went up and my speed went down
        the new {plan} costs more and gives me less
        the "simple" change has taken three calls so far
        I get to pay more for the privilege of changing my {plan}
    """),
    pos=L("""
        that's great, and could you also {feat}
        brilliant, thank you, while I'm here can I {feat}
        I'm really happy with the service, so I'd like to {feat}
        you've been great, I'd love to {feat}
    """),
    short={
        "neutral": ["upgrade please", "add more data", "downgrade me", "change my plan",
                    "change tariff", "bigger package please", "switch plans", "upgrade my plan"],
        "negative": ["still on the old plan", "still not upgraded", "still not changed"],
    },
    story=L("""
        we've got more people working from home now
        my son's just started uni
        I've been looking at what I actually use each month
        my old contract finished in {month}
        I saw the new {plan} options on your website
    """),
)

INTENTS["promotion_inquiry"] = dict(
    domains=ALL_DOMAINS,
    req=L("""
        are there any deals for existing customers
        do you have any offers on at the moment
        my promo code isn't working
        how do I use my discount code
        can I get {promo}
        am I eligible for {promo}
        how many reward points have I got
        how do I redeem my points
        is there a student discount
        is the Black Friday offer still on
        do you price match
        I saw an advert for {promo}, can I get that
        can you apply {promo} to my account
        is there a discount if I pay annually
        how does the referral bonus work
        when do my points expire
        is there a discount for over 65s
        can I get the {money} off voucher applied
        what's the best deal you can do for me
        %mobile is there any cashback on the new phones
        I got an email about a discount, how do I claim it
        @UK do you do discounts for NHS staff
        @US do you do a military discount
        can I use two promo codes on one order
        what do I get for referring a friend
        is there a free trial
        I've got a voucher code from my welcome email, where do I put it
        @IN are there any Diwali offers going on
        @AU any specials on at the moment
        %airline how many air miles do I have
        %airline can I use my points to pay for part of the booking
        can you tell me more about {promo}
        is {promo} still available
        how long does {promo} last
        does {promo} apply to existing customers
        I'd like to sign up for {promo}
        what's the catch with {promo}
        can {promo} be added to my account
        I've heard about {promo}, how do I get it
        is there a loyalty reward for staying with you
        can I get a discount if I bundle everything together
        what offers can you give me if I renew
        is there any discount for paying upfront
        where do I put the promo code on the app
        when does the sale start
        can I get the sale price on something I bought last week
        do you have any discount codes at the moment
        is there anything you can do on the price
        are there any cheaper deals I could switch to
        could I get {promo} on my account
    """),
    nnw=L("""
        does the discount stop if I miss a payment
        why would a promo code say invalid
        what if my voucher has expired
        can I still use an expired code
        do I lose my points if I don't use them
        is there a penalty if the referral doesn't complete
    """),
    griev=L("""
        I was promised the discount when I signed up and it's not on my bill
        the code in your email doesn't work and I've tried it {times}
        I was told the cashback would be paid in {n_weeks} and it's been over two months
        my points have disappeared from my account
        the offer on your website says one price and my bill says another
        new customers get this deal and I've been with you {years} years
        the voucher expired while I was waiting for someone to fix it
        the referral bonus never arrived even though my friend joined in {month}
        I was told I'd get the loyalty discount at renewal and the price went up instead
    """),
    sarc=L("""
        the promo code expired the day I got it
        new customers get the deal and loyal customers get a price rise
        my points have vanished again
        the "exclusive offer" is more than I'm paying now
        the free gift costs {money} in postage
    """),
    pos=L("""
        I love the rewards scheme, how do I use my points
        you've been great to me over the years, are there any loyalty deals going
        the last offer was brilliant, is there anything similar on now
    """),
    short={
        "neutral": ["any deals", "promo code", "any offers", "discount please", "my reward points",
                    "loyalty offers", "any discounts"],
        "negative": ["code still doesn't work", "still no cashback"],
    },
    story=L("""
        my friend told me about the offer
        I saw it advertised on the telly
        I got an email last week
        my contract's up for renewal soon
        I've been a customer for {years} years
    """),
)

INTENTS["product_inquiry"] = dict(
    domains=ALL_DOMAINS,
    frames=L("""
        can you tell me {ask}
        I'd like to know {ask}
        I was wondering {ask}
        quick question, I wanted to check {ask}
        could you find out {ask}
        do you know {ask}
        I'm trying to work out {ask}
        before I sign up, can you tell me {ask}
        I wanted to ask {ask}
        can you confirm {ask}
        @IN I have one doubt, can you tell me {ask}
        I just need to know {ask}
        could you check {ask} for me
    """),
    req=L("""
        does the plan include calls to landlines
        how does the cashback work
        %insurance does the policy cover accidental damage
        what's the difference between the two plans
        how long is the warranty
        %banking can I use my card abroad
        what are your opening hours
        %ecommerce is the laptop in stock
        is there a version with more storage
        %mobile can I keep my number if I switch to you
        %banking what's the interest rate on the savings account
        @UK do you deliver to Northern Ireland
        %banking how long does a bank transfer take
        which cards do you accept
        %streaming can I download shows to watch offline
        %streaming how many devices can I stream on
        do you have a store near me
        %software does the software work on Linux
        what's included in the premium package
        how do I set up the {dev}
        what does the {dev} do exactly
        is there an app for managing my account
        how does the {dev} work
        what's the minimum term
        do you offer a trial period
        can I pay monthly instead of upfront
        what's the difference between your {plan} options
        what are the options for someone who works from home
        does it come with a charger
        is there a cheaper version
        how long does it take to get set up
    """),
    nnw=L("""
        what happens if I go over my data
        what's covered if my {dev} breaks
        what's your policy if something arrives damaged
        does the warranty cover accidental damage
        what happens if I miss a month on the subscription
        %banking is there any charge for using the card abroad
        %insurance does the insurance pay out if the flight is cancelled
        is there a fee for using the app
        what happens to my data if I stop paying
    """),
    griev=L("""
        I've asked this {times} and got a different answer each time
        the website says one thing and the shop says another
        nobody I've spoken to seems to know the answer
        I was told on the chat that it was included, and now I'm told it isn't
        I've been trying to get a straight answer on this for {dur}
        the information on your website is out of date
    """),
    sarc=L("""
        I get a different answer every time I ask
        the website and the shop say completely different things
        nobody can tell me what I'm actually paying for
        the help page links to another help page that links back to the first one
    """),
    pos=L("""
        I've been really happy with you, so I wanted to ask {ask}
        your shop staff were lovely, they said to ring and check {ask}
        the last phone I got from you was brilliant, can you tell me {ask}
    """),
    short={
        "neutral": ["opening hours", "does it do 5G", "what colours", "is it in stock", "how much is it",
                    "what's included", "price please", "which plan"],
    },
    story=L("""
        I'm thinking of switching to you
        I've been looking on the website
        my neighbour's got the same thing
        I'm trying to compare a few options
        we're moving to a new house next month
    """),
)

INTENTS["request_human"] = dict(
    domains=ALL_DOMAINS,
    req=L("""
        can I speak to a real person
        I'd like to talk to someone please
        can you put me through to an agent
        can I speak to a manager
        I'd like to speak to a supervisor
        can I talk to a human please
        is there someone I can speak to about {topic}
        can you transfer me to the {team}
        put me through to the {team} please
        I'd rather speak to a person than the automated system
        can I have a call back from someone senior
        can you connect me to the team that deals with {topic}
        is there anyone there
        can I speak to {name}, I spoke to them yesterday
        can you get your team leader for me
        can I speak to an advisor
        I'd like to speak to the retentions team
        transfer me to a human please
        customer service please
        can I speak to someone in the {team}
        I need to speak to someone about {topic}
        can I be transferred to the person who dealt with my case
        is it possible to speak to a real agent
        can I speak to a person, not a bot
        can you pass me on to someone more senior
        @IN kindly connect me to a customer care executive
        @IN I want to talk to your senior
        @US can I get a representative please
        @AU can you put me through to a real person, mate
        can I speak to someone in the {team} about {topic}
        could you put me through to someone who deals with {topic}
        who can I talk to about {topic}
        can I get put through to a person please
        I'd like to be transferred to the {team}
        is there a human I can talk to
        can someone from the {team} call me back
    """),
    nnw=L("""
        who do I speak to if I'm not happy with an answer
        how do I get through to a person without going through all the options
        is there a number for complaints rather than sales
        what's the best way to reach a manager
        can I ask for a different agent if I'm not getting anywhere
    """),
    griev=L("""
        I've explained this to three people now, I'd like to speak to someone senior
        the bot has sent me round in circles {times}, I need a person
        I've been told you can't help, so who can
        I've been on hold for {hold} just to get to you, can I speak to a manager
        I was promised a call from a manager on {weekday} and it never came, can you put me through to one
        no offence, but I'd like to speak to someone who can actually change something
        I've been through the automated options {times} and none of them cover my problem
        the last agent said only a supervisor could sort this, so can you get one
        I need someone who can actually authorise this, not another script
        every time I ask for a manager I'm told they're busy, I'd like one now please
        I've asked for a supervisor {times} today
        you're the {nth} person I've spoken to, can I please have someone senior
    """),
    sarc=L("""
        I'm talking to a robot again
        the bot's sent me back to the main menu again
        I've pressed zero ten times and I'm still in the menu
        the "virtual assistant" has understood absolutely nothing
        I've been put back in the same queue again
    """),
    sarc_req=["can I please speak to an actual human", "can you put me through to a real person",
              "I'd like a manager please", "get me someone who can help please"],
    pos=L("""
        you've been lovely, but could you put me through to the {team}
        thanks, that's really helpful, could I also speak to someone in the {team}
        that's brilliant, can you transfer me to the {team} now
    """),
    short={
        "neutral": L("""
            operator please
            agent
            real person please
            speak to someone
            human please
            representative
            a person please
            customer service
            talk to an agent
            advisor please
        """),
        "negative": ["just get me a person", "manager, now please", "I want a manager",
                     "human, please, now", "supervisor. now."],
    },
    story=L("""
        I've been through all the options on the phone menu
        I tried the chat on the website first
        I've got quite a complicated situation
        I spoke to someone a few weeks ago about something else
    """),
)

INTENTS["gratitude"] = dict(
    domains=ALL_DOMAINS,
    pos=L("""
        thank you so much
        thanks, that's really helpful
        that's brilliant, cheers
        you've been a great help
        I really appreciate you sorting that out
        perfect, thanks for your help
        lovely, thank you
        thanks for being so patient with me
        that's fixed it, thank you
        oh that's a relief, thanks
        you're a star
        thanks a million
        much appreciated, thank you
        thank you for your help today
        that's exactly what I needed, thank you
        I'll make sure to leave good feedback
        {onsite}can you pass on my thanks to the {tech}
        {onsite}the {tech} who came yesterday was excellent, please tell them
        thanks for calling me back so quickly
        you've been really patient, thanks
        thanks, you've made my day
        great stuff, that's all sorted then, thanks
        @IN thank you so much ma'am, very helpful
        @IN thanks a lot sir, it is working now
        @AU no worries, thanks heaps
        @AU cheers mate, legend
        @UK ta very much
        @UK cheers, that's sorted it
        @US awesome, thanks so much, I appreciate it
        brilliant, thank you, have a good day
        it's back on, thank you so much
        that's working perfectly now, thanks
        you've saved me so much hassle, thank you
        I was dreading this call but that was so easy, thank you
        thank you, honestly that's made things so much easier
        I just wanted to say thanks for sorting my refund so fast
        I'm calling to say thanks for the help last week
        the lady I spoke to yesterday was fantastic, please tell her
        you've been amazing, honestly
        that's great, thank you for explaining it so clearly
        thanks for staying on the line with me
        what a helpful call, thank you
        perfect, that's everything, thank you so much
        thanks for your time, you've been really kind
        that's wonderful news, thank you
        I can't thank you enough
        fantastic, thanks for getting it sorted
        oh brilliant, thank you
        great, that's all working, thanks
        thanks for going above and beyond
        really appreciate your patience
        you've been super helpful, thank you
        thank you, that's put my mind at rest
        honestly, best customer service I've had in ages, thank you
        thanks for sorting it so quickly, I really appreciate it
        I wanted to say the new {dev} is brilliant, thank you
        you've been really kind, thanks for listening
        thank you, that's exactly what I was hoping to hear
        oh amazing, it's working, thank you so much
        thanks ever so much, you've been great
        that's so kind of you, thank you
        the credit's come through, thanks for sorting that
        I just want to say thank you, the {tech} was really professional{onsite}
    """),
    pos_long=L("""
        honestly I was dreading this because last time it took ages, but you've sorted it in five minutes, so thank you
        I've been with you {years} years and this is the best call I've had, thank you
        I know it's been a long call, but you've been so patient with me, and I really do appreciate it
        I'm not very good with technology and you've explained everything really clearly, thank you
        my mum's been trying to sort this for weeks and you've done it in one call, so thank you so much
    """),
    short={
        "positive": L("""
            thanks
            thank you
            cheers
            ta
            brilliant thanks
            lovely, ta
            thanks so much
            perfect, thanks
            great, thank you
            much appreciated
            thanks heaps
            cheers mate
            thank you ma'am
            amazing, thanks
            thanks a lot
            thank you kindly
        """),
    },
    story=L("""
        I rang last week about my bill
        the {tech} came out on {weekday}{onsite}
        I'd been trying to sort it for a while
        I was a bit worried before I called
    """),
)

INTENTS["other"] = dict(
    domains=ALL_DOMAINS,
    backchannel=L("""
        okay
        uh-huh
        yeah
        mm-hmm
        right
        yeah go on
        sure
        go ahead
        alright
        yep
        I see
        hang on
        one second
        let me grab a pen
        sorry, could you repeat that
        can you hear me
        you're breaking up a bit
        hold on, let me find it
        yes that's right
        no that's it
        no that's all
        okay got it
        yes
        no
        yeah yeah
        okay, and then what
        right, okay
        sorry, what was that
        can you say that again
        just a sec
        bear with me
        I'm still here
        hello, are you still there
        okay, I'll hold
        sure, no problem
        okay, one moment
        let me just check
        right, got that
        yeah that's me
        speaking
        yes it is
        mhm
        okay sure
        yeah, that's fine
        okay, go on
        sorry, I missed that
        could you spell that
        is that with a double L
        sorry, the line's bad
        okay, I've got my card here now
        that's correct
        no, it's the other one
        okay and what's the next step
        yeah I'm listening
        hmm
        okay, fair enough
        right, I'll write that down
        uh, yes
        oh okay
        sorry, go on
        hold on a minute
        give me two secs
    """),
    identity=L("""
        my postcode is {pc}
        it's {digits4}
        {digits4}
        the account number is {acctnum}
        my date of birth is {dob}
        my name's {first} {last}
        that's {spell}
        the first line of the address is {house} {street}
        my email is {email}
        my phone number is {phone}
        the last four digits of the card are {digits4}
        the reference is {ref}
        it's in my husband's name, {first} {last}
        it's under my wife's name actually, {first} {last}
        I'm the account holder
        yes, that's me
        it's {title} {last}
        my customer number is {acctnum}
        the {pcword} is {pc}
        it's {house} {street}, {city}
        my security word is {secword}
        my mother's maiden name is {last}
        the answer is {secword}
        it's {first}, {spell}
        date of birth, {dob}
        yeah it's {pc}
        the order number is {ordernum}
        @US my zip code is {zip}
        @IN my PIN code is {inpin}
        @IN my registered mobile number is {phone}
        my account number should be {acctnum}, let me double check
        sorry, it's {digits4}, not {digits4b}
        {last}, {spell}
        it's {first} {last}, and the date of birth is {dob}
        postcode {pc}
        the number's {phone}
        it was {dob}, my date of birth
        I think it's {digits4}
        the card ends in {digits4}
        it's {email}
        {house} {street}
        first line is {house} {street}
    """),
    oos=L("""
        what's the weather like where you are
        can you recommend a good restaurant near me
        do you know what time the match starts
        sorry, my dog's going mad at the door
        I'm just in the car, give me a second
        are you a robot
        what's your name
        where are you based
        is this call being recorded
        can you speak up a bit
        can you help me with my tax return
        do you know a good plumber
        how do I get to the train station from here
        what time is it over there
        can you book me a taxi
        sorry, I was talking to my son
        can I call you back in five minutes
        my phone's about to die
        I think I've rung the wrong number
        is this the number for the council
        do you sell lottery tickets
        can you tell me the football score
        do you have a recipe for banana bread
        hang on, someone's at the door
        sorry, the kids are shouting
        is it raining there too
        how's your day going
        do you like your job
        @UK sorry, I'm just waiting for the kettle
        am I speaking to a computer
        can you order me a pizza
        what's the best way to get rid of ants
        do you know when the shops close today
        sorry, wrong department, I wanted the doctors
        can you tell me how to get to the airport
        is it a bank holiday on Monday
        I'm just going to put you on speaker
        sorry, I'm in a supermarket, it's a bit loud
        what's your favourite film
        sorry, I need to move somewhere quieter
    """),
    greet=L("""
        hi
        hello
        hi there
        hello, yes
        good morning
        good afternoon
        hiya
        @AU g'day
        hey
        hello?
        hi, can you hear me
        morning
        @IN hello ma'am
        hi, how are you
        hi, is this customer services
        hello, sorry, I was on hold
        good evening
        hello, anyone there
        oh hi, sorry
        hi, yes, hello
    """),
    neg_short=L("""
        still nothing
        nope, still nothing
        no change
        same as before
        that didn't work
        that didn't work either
        nothing's happened
        no, still the same
        here we go again
        not again
        I give up
        forget it
        this is going nowhere
        that's not what I asked
        still the same
        no, nothing
        nope, same thing
        oh for goodness' sake
        unbelievable
        still no luck
        nothing, again
    """),
    neg_long=L("""
        honestly I don't even know where to start, it's been one thing after another this week, the car's in the garage, the kids are off school, and now I'm sat here on hold when I should be at work
        look, I've tried everything I can think of, I've done what everyone told me to do, and I'm still stuck in exactly the same place I was a month ago, so I don't really know what to say anymore
        I've been sat here for ages, I've got to pick the kids up in ten minutes, I've not had any lunch, and I'm still no further forward than I was this morning
    """),
    neu_long=L("""
        sorry, I'm just in the car, the kids are in the back, hang on, I'm going to pull over, right, okay, sorry about that, where were we, you were asking for my details I think
        hello, yes, sorry, I've just come in from the garden and I've got mud all over my hands, just give me a second to find a pen and something to write on, okay, go ahead
        sorry, could you just bear with me a minute, my husband's got all the paperwork and he's upstairs, I'm going to shout him down, he'll know the account number, won't be a second
        right, okay, so I've got my glasses now, and I've got the letter here in front of me, there's a lot of numbers on it, which one do you need, the one at the top or the one by my name
    """),
    pos=L("""
        oh you're in Glasgow, lovely city
        ha, that's brilliant
        oh nice, good to hear
        have a lovely weekend
        hope you have a good day
        it's lovely and sunny here today
        ha, you've made me laugh
        aw, that's sweet
        enjoy the rest of your shift
        you sound cheerful today
        oh that's good news
        oh brilliant, that's good to hear
        ah lovely
        nice one
        oh great, that's a relief
        oh wonderful
        ha, love that
        oh that's good, I was worried for a second
    """),
    short={},
    story=[],
)


# ===========================================================================
# Category plans: (category, sentiment, share) per intent
# ===========================================================================
DEFAULT_PLAN = [
    ("calm_complaint", "negative", .12), ("grievance_request", "negative", .14),
    ("thanks_in_complaint", "negative", .05), ("sarcasm", "negative", .05),
    ("rambling", "negative", .05), ("short", "negative", .02),
    ("plain_request", "neutral", .26), ("neutral_negative_words", "neutral", .07),
    ("rambling", "neutral", .04), ("short", "neutral", .04),
    ("positive", "positive", .14), ("rambling", "positive", .02),
]
PLAN = {i: DEFAULT_PLAN for i in INTENT_LABELS}
PLAN["complaint"] = [
    ("calm_complaint", "negative", .34), ("grievance_request", "negative", .12),
    ("thanks_in_complaint", "negative", .08), ("sarcasm", "negative", .10),
    ("rambling", "negative", .10), ("short", "negative", .04),
    ("plain_request", "neutral", .12), ("neutral_negative_words", "neutral", .07),
    ("rambling", "neutral", .01), ("short", "neutral", .02),
]
PLAN["order_status"] = [
    ("grievance_request", "negative", .13), ("thanks_in_complaint", "negative", .04),
    ("rambling", "negative", .03),
    ("plain_request", "neutral", .48), ("neutral_negative_words", "neutral", .05),
    ("rambling", "neutral", .06), ("short", "neutral", .06),
    ("positive", "positive", .13), ("rambling", "positive", .02),
]
PLAN["delivery_problem"] = [
    ("calm_complaint", "negative", .20), ("grievance_request", "negative", .18),
    ("thanks_in_complaint", "negative", .05), ("sarcasm", "negative", .06),
    ("rambling", "negative", .07), ("short", "negative", .03),
    ("plain_request", "neutral", .24), ("neutral_negative_words", "neutral", .05),
    ("rambling", "neutral", .03), ("short", "neutral", .03),
    ("positive", "positive", .05), ("rambling", "positive", .01),
]
PLAN["product_defect"] = [
    ("calm_complaint", "negative", .15), ("grievance_request", "negative", .12),
    ("thanks_in_complaint", "negative", .05), ("sarcasm", "negative", .06),
    ("rambling", "negative", .06), ("short", "negative", .03),
    ("plain_request", "neutral", .30), ("neutral_negative_words", "neutral", .06),
    ("rambling", "neutral", .05), ("short", "neutral", .04),
    ("positive", "positive", .07), ("rambling", "positive", .01),
]
PLAN["gratitude"] = [
    ("positive", "positive", .70), ("short", "positive", .15), ("rambling", "positive", .15),
]
PLAN["other"] = [
    ("backchannel", "neutral", .22), ("identity", "neutral", .22), ("out_of_scope", "neutral", .16),
    ("short", "neutral", .12), ("rambling", "neutral", .05),
    ("short", "negative", .10), ("rambling", "negative", .05),
    ("positive", "positive", .08),
]
# where a (category, sentiment) cell runs dry, its remainder goes here
FALLBACK = {"negative": "grievance_request", "neutral": "plain_request", "positive": "positive"}
FALLBACK_OTHER = {"negative": "short", "neutral": "identity", "positive": "positive"}


# ===========================================================================
# Slot filling and regional surface
# ===========================================================================
SLOT_RE = re.compile(r"\{(\w+)\}")
MARK_DOM = re.compile(r"%(\w+) ")
MARK_REG = re.compile(r"@(UK|US|IN|AU) ")
LIT_NUM = re.compile(r"(?<![\w{£$₹.:,])(\d{1,3})(?![\w}.:,]\d|\w)")
US_SPELL = [(r"\bcancelled\b", "canceled"), (r"\bcancelling\b", "canceling"), (r"\blicence\b", "license"),
            (r"\bcolours?\b", "colors"), (r"\bcentre\b", "center"), (r"\bprogrammes\b", "programs"),
            (r"\bmum\b", "mom"), (r"\bringing\b", "calling"), (r"\brang\b", "called"),
            (r"\bring me\b", "call me"), (r"\bring back\b", "call back"), (r"\bholiday\b", "vacation"),
            (r"\bchequebook\b", "checkbook"), (r"\bpostcode\b", "zip code"), (r"\btelly\b", "TV"),
            (r"\bfibre\b", "fiber"), (r"\bfavourite\b", "favorite"), (r"\bqueue\b", "line")]
IN_EXPAND = [(r"\bI'm\b", "I am"),
             (r"\bit's (been|gone|come|stopped|happened|died|got|broken|taken|had|failed|dropped|left)\b",
              r"it has \1"),
             (r"\bit's\b", "it is"), (r"\bdon't\b", "do not"), (r"\bcan't\b", "cannot"),
             (r"\bhaven't\b", "have not"), (r"\bisn't\b", "is not"), (r"\bI've\b", "I have"),
             (r"\bI'd like\b", "I would like"), (r"\bwhat's\b", "what is"), (r"\bdidn't\b", "did not"),
             (r"\bwon't\b", "will not"), (r"\bhasn't\b", "has not")]
QWORDS = {"can", "could", "would", "will", "is", "are", "do", "does", "did", "what", "what's", "when",
          "when's", "where", "where's", "why", "how", "has", "have", "which", "who", "am", "any",
          "shall", "should", "isn't", "aren't", "won't", "whats", "wheres", "was", "were", "reckon"}
LEAD_WORDS = {"so", "and", "but", "anyway", "right", "okay", "um", "uh", "well", "look", "basically",
              "yeah", "oh", "then", "now", "just", "also", "honestly", "sorry", "hi", "hello", "please",
              "er", "erm", "like", "actually"}
LEAD_PHRASES = re.compile(r"^(at this point|one more thing|quick question|i mean|you know|so yeah|"
                          r"long story short|while i've got you)\s+")


class _Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self._specific = False  # did the last grievance() use an intent-specific statement

    # ------------------------------------------------------------------ utils
    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def num(self, n: int, ctx) -> str:
        return str(n) if ctx["digits"] else num_words(n, ctx["region"] == "US")

    # ------------------------------------------------------------ slot values
    def money(self, ctx) -> str:
        r, rng = ctx["region"], self.rng
        if r == "IN":
            v = self.pick([199, 299, 349, 499, 799, 999, 1499, 2999, 4500, 649])
            if ctx["digits"]:
                return self.pick([f"₹{v:,}", f"Rs {v}", f"{v} rupees", f"₹{v}"])
            return num_words(v) + " rupees"
        v = self.pick([4.99, 8.99, 9.99, 12.5, 15, 19.99, 24.99, 30, 35, 45, 49.99, 59.99, 65, 79,
                       89.99, 120, 150, 250, 299, 12, 7.5, 18.5, 39.99, 60])
        sym = "£" if r == "UK" else "$"
        unit, sub = ("pounds", "p") if r == "UK" else ("dollars", "cents")
        whole, cents = int(v), int(round((v - int(v)) * 100))
        if ctx["digits"]:
            if cents:
                return self.pick([f"{sym}{v:.2f}", f"{sym}{v:.2f}", f"{whole} {unit} {cents}"])
            return self.pick([f"{sym}{whole}", f"{sym}{whole}", f"{whole} {unit}"])
        w = num_words(whole, r == "US")
        if cents:
            return self.pick([f"{w} {num_words(cents)}", f"{w} {unit} {num_words(cents)}",
                              f"{w} {unit} and {num_words(cents)} {'pence' if r == 'UK' else sub}"])
        return f"{w} {unit}"

    def digit_string(self, k: int, ctx, group: int = 4) -> str:
        ds = [str(self.rng.randint(0, 9)) for _ in range(k)]
        ds[0] = str(self.rng.randint(1, 9))
        style = self.rng.random()
        if ctx["digits"] and style < 0.45:
            s = "".join(ds)
            return " ".join(s[i:i + group] for i in range(0, len(s), group))
        if ctx["digits"] and style < 0.8:
            return "".join(ds)
        if style < 0.9 or not ctx["digits"]:
            words = []
            i = 0
            while i < len(ds):
                if ctx["region"] == "UK" and i + 1 < len(ds) and ds[i] == ds[i + 1] and self.chance(0.6):
                    words.append("double " + ONES[int(ds[i])])
                    i += 2
                    continue
                words.append("oh" if ds[i] == "0" and ctx["region"] == "UK" and self.chance(0.5)
                             else ONES[int(ds[i])])
                i += 1
            return " ".join(words)
        return " ".join(ds)

    def postcode(self, region) -> str:
        rng = self.rng
        if region == "UK":
            area = self.pick(UK_PC_AREAS)
            return (f"{area}{rng.randint(1, 20)} {rng.randint(1, 9)}"
                    f"{chr(65 + rng.randint(0, 25))}{chr(65 + rng.randint(0, 25))}")
        if region == "US":
            return str(rng.randint(10000, 99999))
        if region == "IN":
            return str(rng.randint(110001, 699999))
        return str(rng.randint(2000, 7999))

    def slot(self, name: str, ctx) -> str:
        cache = ctx["cache"]
        if name in cache:
            return cache[name]
        base = name[:-1] if name[-1] in "2b" and name[:-1] in (
            "money", "dur", "digits4", "dev", "weekday", "date") else name
        for _ in range(6):
            val = self._slot(base, ctx)
            if base == name or val != cache.get(base):
                break
        cache[name] = val
        return val

    def _slot(self, name: str, ctx) -> str:
        rng, r, d = self.rng, ctx["region"], ctx["digits"]
        if name in DOMAIN_KEYS:
            return self.pick(DOMAINS[ctx["domain"]][name])
        if name == "n_days":
            k = rng.randint(3, 21)
            return f"{self.num(k, ctx)} days"
        if name == "n_weeks":
            k = rng.randint(2, 6)
            if k == 2 and r in ("UK", "AU") and self.chance(0.3):
                return "a fortnight"
            return f"{self.num(k, ctx)} weeks"
        if name == "n_months":
            return self.num(rng.randint(2, 6), ctx)
        if name == "dur":
            x = rng.random()
            if x < 0.3:
                return f"{self.num(rng.randint(8, 25), ctx)} days"
            if x < 0.65:
                return self._slot("n_weeks", ctx)
            if x < 0.8:
                return self.pick(["a month", "over a month", "nearly a month", "about a month"])
            return f"{self.num(rng.randint(2, 5), ctx)} months"
        if name == "hold":
            mins = self.pick([35, 40, 45, 50, 55, 25])
            return self.pick([f"{self.num(mins, ctx)} minutes", "an hour", "over an hour",
                              "an hour and a half", f"{self.num(mins, ctx)} minutes",
                              "nearly an hour", f"{self.num(2, ctx)} hours"])
        if name == "times":
            if d and self.chance(0.3):
                return f"{rng.randint(3, 6)} times"
            return self.pick(["twice", "three times", "four times", "five times", "a few times",
                              "several times", "three or four times", "about six times"])
        if name == "nth":
            k = rng.randint(2, 6)
            return ordinal_digits(k) if d and self.chance(0.25) else ORD_WORDS[k]
        if name == "date":
            day = rng.randint(1, 28)
            o = ordinal_digits(day) if d else ORD_WORDS[day]
            if rng.random() < 0.6:
                return f"the {o}"
            m = self.pick(MONTHS)
            if r == "US":
                return f"{m} {o}"
            return f"the {o} of {m}"
        if name == "month":
            return self.pick(MONTHS)
        if name == "weekday":
            return self.pick(WEEKDAYS)
        if name == "clock":
            h = self.pick([7, 8, 9])
            return self.pick([f"{h} o'clock", f"{h}", f"half {num_words(h)}" if r == "UK" else f"{h}:30",
                              f"{h}:00"]) if d else self.pick([num_words(h), f"{num_words(h)} o'clock",
                                                              f"half past {num_words(h)}"])
        if name == "money":
            return self.money(ctx)
        if name == "years":
            return self.num(rng.randint(3, 15), ctx)
        if name == "ordernum":
            return self.digit_string(self.pick([8, 8, 9, 10, 6]), ctx)
        if name == "acctnum":
            return self.digit_string(self.pick([8, 8, 10, 12]), ctx)
        if name == "ref":
            letters = "".join(chr(65 + rng.randint(0, 25)) for _ in range(rng.randint(1, 3)))
            digits = self.digit_string(rng.randint(4, 6), ctx)
            if self.chance(0.4):
                letters = " ".join(letters)
            return f"{letters} {digits}" if " " in digits or not d else f"{letters}{digits}"
        if name == "digits4":
            return self.digit_string(4, ctx, group=4) if self.chance(0.6) else " ".join(
                str(rng.randint(0, 9)) for _ in range(4))
        if name == "phone":
            if r == "UK":
                return self.digit_string(11, ctx, group=5).replace("1", "0", 0)
            return self.digit_string(10, ctx, group=5)
        if name == "pc":
            return self.postcode(r)
        if name == "zip":
            return self.postcode("US")
        if name == "inpin":
            return self.postcode("IN")
        if name == "pcword":
            return {"UK": "postcode", "US": "zip code", "IN": "PIN code", "AU": "postcode"}[r]
        if name == "dob":
            day, m, y = rng.randint(1, 28), self.pick(MONTHS), rng.randint(1948, 2003)
            if not d:
                return f"the {ORD_WORDS[day]} of {m} {num_words(y // 100)} {num_words(y % 100) if y % 100 >= 10 else 'oh ' + ONES[y % 100]}"
            return self.pick([f"{ordinal_digits(day)} of {m} {y}", f"{m} {ordinal_digits(day)}, {y}",
                              f"{day}/{MONTHS.index(m) + 1:02d}/{y}", f"the {ordinal_digits(day)} of {m}, {y}"])
        if name == "first":
            return self.pick(FIRST_NAMES)
        if name == "last":
            return self.pick(LAST_NAMES)
        if name == "name":
            return self.pick(FIRST_NAMES)
        if name == "spell":
            last = self.slot("last", ctx)
            return " ".join(c.upper() for c in last if c.isalpha())
        if name == "title":
            return self.pick(["Mrs", "Mr", "Ms", "Miss", "Dr"])
        if name == "email":
            first, last = self.slot("first", ctx).lower(), self.slot("last", ctx).lower().replace("'", "")
            dom = self.pick(["gmail", "outlook", "yahoo", "hotmail", "icloud"])
            n = rng.randint(1, 99)
            if self.chance(0.5):
                return f"{first}.{last}{n}@{dom}.com"
            return f"{first} dot {last} {self.num(n, ctx)} at {dom} dot com"
        if name == "house":
            return self.num(rng.randint(1, 140), ctx)
        if name == "street":
            return self.pick(STREETS)
        if name == "city":
            return self.pick(CITIES[r])
        if name == "secword":
            return self.pick(SEC_WORDS)
        if name == "tech":
            if r == "UK":
                return "engineer"
            if r == "US":
                return self.pick(["technician", "tech", "technician"])
            return self.pick(["technician", "engineer"])
        if name == "tech_a":
            t = self.slot("tech", ctx)
            return ("an " if t[0] in "aeiou" else "a ") + t
        if name == "mobile":
            return "cell phone" if r == "US" else "mobile"
        if name == "team":
            return self.pick(TEAMS)
        if name == "topic":
            return self.pick(TOPICS)
        raise KeyError(name)

    # ------------------------------------------------------------- realising
    def realise(self, intent: str, tmpl: str):
        """Pick domain + region for a composed template, fill it. -> (text, ctx) or None."""
        doms = MARK_DOM.findall(tmpl)
        regs = MARK_REG.findall(tmpl)
        if len(set(doms)) > 1 or len(set(regs)) > 1:
            return None
        tmpl = MARK_REG.sub("", MARK_DOM.sub("", tmpl))
        keys = {k[:-1] if k[-1] == "2" else k for k in SLOT_RE.findall(tmpl)} & DOMAIN_KEYS
        pool = [doms[0]] if doms else INTENTS[intent]["domains"]
        cands = [d for d in pool if all(DOMAINS[d][k] for k in keys)]
        if not cands:
            return None
        region = regs[0] if regs else self.rng.choices(REGIONS, REGION_W)[0]
        ctx = {"domain": self.pick(cands), "region": region, "digits": self.chance(0.6), "cache": {}}
        if not ctx["digits"]:
            tmpl = LIT_NUM.sub(lambda m: num_words(int(m.group(1)), region == "US"), tmpl)
        text = tmpl
        for _ in range(4):
            if "{" not in text:
                break
            text = SLOT_RE.sub(lambda m: self.slot(m.group(1), ctx), text)
        text = re.sub(r"\s+", " ", text).strip()
        text = re.sub(r"\s+([,.?])", r"\1", text)
        text = re.sub(r"^[,\s]+", "", text)
        text = re.sub(r",\s*,", ",", text)
        return text, ctx

    def regional(self, text: str, ctx, category: str) -> str:
        r = ctx["region"]
        if r == "US":
            for pat, rep in US_SPELL:
                text = re.sub(pat, rep, text)
        elif r == "IN":
            if self.chance(0.4):
                for pat, rep in IN_EXPAND:
                    text = re.sub(pat, rep, text)
            if self.chance(0.25):
                text = text.replace("can you please", "kindly").replace("could you please", "kindly")
            if category not in ("identity", "backchannel", "short") and self.chance(0.1):
                text = text + self.pick([", sir", ", ma'am"])
        elif r == "AU":
            text = text.replace("this afternoon", "this arvo")
            if category not in ("identity", "backchannel") and self.chance(0.12):
                text = text.rstrip(".?! ") + ", mate"
        return text

    # -------------------------------------------------------------- content
    def opener(self, grievance: bool = False, before: str = "") -> str:
        if self.chance(0.2):
            reg = self.pick(["UK", "US", "IN", "AU"])
            return f"@{reg} " + self.pick(OPENERS[reg])
        if grievance:
            return self.pick(OPENERS_G)
        core = MARK_REG.sub("", MARK_DOM.sub("", before)).split(",")[0]
        bad = OPENERS_Q_BAD if _clause_is_question(core, first=True) else OPENERS_STMT_BAD
        return self.pick([o for o in OPENERS["any"] if o not in bad])

    GREET_RE = re.compile(r"^((?:@\w\w |%\w+ )*)(?:g'day|hi|hello|hey|mate)(?:,\s*|\s+)", re.I)

    def bare(self, t: str) -> str:
        """A request core without its own greeting, for use mid-turn."""
        return self.GREET_RE.sub(r"\1", t)

    @staticmethod
    def attach_opener(op: str, t: str) -> str:
        bare = MARK_REG.sub("", op).strip()
        last = bare.split()[-1] if bare else ""
        if bare.endswith(",") or last in ("so", "because", "but", "basically", "um", "is"):
            return f"{op} {t}"
        return f"{op}, {t}"

    def request(self, intent: str) -> str:
        spec = INTENTS[intent]
        if intent == "product_defect" and self.chance(0.7):
            return self.pick(spec["frames"]).replace("{f}", "{fault}")
        if intent in ("plan_change", "product_inquiry") and self.chance(0.6):
            return self.pick(spec["frames"])
        return self.pick(spec["req"])

    def neutral_core(self, intent: str) -> str:
        spec = INTENTS[intent]
        if intent == "complaint":
            return self.pick(spec["plain"])
        if intent == "delivery_problem":
            core = self.pick(spec["plain"])
            if self.chance(0.3):
                core += ", " + self.pick(spec["req"][:10])
            return core
        return self.request(intent)

    DEFECT_FOLLOWUP = ["can you help", "what can you do", "can you run a test", "can you send a replacement",
                       "what are my options", "is there a fix", "can someone look at it", "what do I do now",
                       "can you sort it out", "I need it working"]

    def request_after(self, intent: str, g: str) -> str:
        """A request to follow grievance g (never repeating g's fault report)."""
        spec = INTENTS[intent]
        if intent == "delivery_problem" and not self._specific:
            # "where is it" + a grievance that says nothing about lateness or
            # loss would be order_status: ask for a fix instead
            r = self.pick(spec["req"][:10])
        elif intent in ("complaint", "delivery_problem", "request_human"):
            r = self.pick(spec["req"])
        elif intent == "product_defect" and "{fault}" in g:
            r = self.pick(self.DEFECT_FOLLOWUP)
        else:
            r = self.request(intent)
        return self.bare(r)

    def grievance(self, intent: str, specific_p=0.5, second_p=0.3, tail_p=0.25) -> str:
        spec = INTENTS[intent]
        own = spec.get("griev") or []
        self._specific = True
        if intent == "product_defect" and self.chance(specific_p * 0.5):
            tail = self.pick(spec["fault_tail"])
            main = "{fault}" + (tail if tail.startswith(",") else " " + tail)
        elif own and self.chance(specific_p):
            main = self.pick(own)
        else:
            main = self.pick(GRIEVANCE[self.pick(ALLOWED_TYPES[intent])])
            self._specific = False
        parts = [main]
        if self.chance(second_p):
            parts.append(self.pick(GRIEVANCE[self.pick(ALLOWED_TYPES[intent])]))
        if self.chance(tail_p):
            parts.append(self.pick(GRIEVANCE[self.pick(TAIL_TYPES)]))
        out = parts[0]
        for p in parts[1:]:
            if p == out:
                continue
            out += self.pick(G2G) + p
        return out

    # ------------------------------------------------------------ categories
    def cat_plain_request(self, intent, sent):
        t = self.neutral_core(intent)
        if self.chance(0.35):
            t = self.attach_opener(self.opener(before=t), t)
        if self.chance(0.2):
            t += ", " + self.pick(CLOSERS)
        return t

    def cat_neutral_negative_words(self, intent, sent):
        t = self.pick(INTENTS[intent]["nnw"])
        if self.chance(0.25):
            t = self.attach_opener(self.opener(before=t), t)
        if self.chance(0.08):
            t += ", " + self.pick(CLOSERS[:6])
        return t

    def cat_calm_complaint(self, intent, sent):
        spec = INTENTS[intent]
        if intent == "request_human":
            t = self.pick(spec["griev"])
            if self.chance(0.25):
                t += self.pick(G2G) + self.pick(GRIEVANCE[self.pick(MAIN_TYPES + TAIL_TYPES)])
        elif intent == "complaint":
            t = self.grievance(intent, specific_p=0.6, second_p=0.35, tail_p=0.3)
        elif not spec.get("griev"):
            return None
        else:
            t = self.grievance(intent, specific_p=1.0, second_p=0.25, tail_p=0.3)
        if self.chance(0.2):
            t = self.attach_opener(self.opener(grievance=True), t)
        return t

    def cat_grievance_request(self, intent, sent):
        spec = INTENTS[intent]
        g = self.grievance(intent, specific_p=0.5, second_p=0.2, tail_p=0.12)
        r = self.request_after(intent, g)
        if self.chance(0.7):
            t = g + self.pick(G2R) + r
        else:
            t = r + self.pick(R2G) + g
        if self.chance(0.12):
            t += ". " + self.pick(GRIEVANCE[self.pick(["resignation", "threat"])])
        if self.chance(0.15):
            t = self.attach_opener(self.opener(grievance=True), t)
        return t

    def cat_thanks_in_complaint(self, intent, sent):
        if intent == "complaint" and self.chance(0.25):
            return self.pick(TIC_COMPLAINT)
        f = self.pick(TIC_FRAMES)
        spec = INTENTS[intent]
        if "{r}" in f:
            g = self.grievance(intent, specific_p=0.5, second_p=0.1, tail_p=0.0)
            f = f.replace("{r}", self.request_after(intent, g))
        else:
            if intent != "complaint" and not spec.get("griev"):
                return None
            g = self.grievance(intent, specific_p=1.0 if intent != "complaint" else 0.6,
                               second_p=0.15, tail_p=0.1)
        return f.replace("{g}", g)

    def cat_sarcasm(self, intent, sent):
        spec = INTENTS[intent]
        if not spec.get("sarc"):
            return None
        f = self.pick(SARC_FRAMES)
        if "{r}" in f:
            if spec.get("sarc_req"):
                r = self.pick(spec["sarc_req"])
            elif intent in ("complaint", "delivery_problem"):
                r = self.pick(spec["req"])
            else:
                r = self.request(intent)
            f = f.replace("{r}", self.bare(r))
        t = (f.replace("{o}", self.pick(SARC_OPENERS)).replace("{adj}", self.pick(SARC_ADJ))
             .replace("{b}", self.pick(spec["sarc"])))
        if self.chance(0.12):
            t += ". " + self.pick(GRIEVANCE[self.pick(["resignation", "threat", "disappointment"])])
        return t

    def cat_positive(self, intent, sent):
        spec = INTENTS[intent]
        if intent == "gratitude":
            t = self.pick(spec["pos"])
            if self.chance(0.25):
                t += self.pick([", ", ". "]) + self.pick(PRAISE_SUF)
            return t
        if intent == "other":
            return self.pick(spec["pos"])
        if intent == "delivery_problem":
            r = self.pick(spec["plain"])
        else:
            r = self.request(intent)
        x = self.rng.random()
        asks = _clause_is_question(MARK_REG.sub("", MARK_DOM.sub("", r)).split(",")[-1]) or re.search(
            r"\b(can|could) (you|I|someone)\b|\bI'd like\b|\bI want\b|\bplease\b", r)
        if 0.4 <= x < 0.65 and not asks:  # praise after a bare problem report sounds odd
            x = 0.7 if spec.get("pos") else 0.0
        if x < 0.4:
            pre = self.pick(PRAISE_PRE + PRAISE_PRE_ONSITE)
            if "{tech}" in pre:
                pre = "{onsite}" + pre
            t = pre + self.pick(PRAISE_CONN) + self.bare(r)
        elif x < 0.65:
            t = r + self.pick([", ", ". ", ". "]) + self.pick(PRAISE_SUF)
        elif x < 0.88 and spec.get("pos"):
            t = self.pick(spec["pos"]).replace("{f}", "{fault}")
        else:
            t = self.pick(RELIEF) + self.pick(PRAISE_CONN) + self.bare(r)
        return t

    def cat_short(self, intent, sent):
        spec = INTENTS[intent]
        if intent == "other":
            return self.pick(spec["greet"] if sent == "neutral" else spec["neg_short"])
        lst = spec["short"].get(sent)
        return self.pick(lst) if lst else None

    def cat_backchannel(self, intent, sent):
        bc = INTENTS["other"]["backchannel"]
        n = 1 if self.chance(0.65) else (2 if self.chance(0.8) else 3)
        return ", ".join(self.pick(bc) for _ in range(n))

    def cat_identity(self, intent, sent):
        t = self.pick(INTENTS["other"]["identity"])
        if self.chance(0.3):
            t = self.pick(["yeah, ", "sure, ", "um, ", "yes, ", "okay, ", "right, ", "so ", "uh, "]) + t
        return t

    def cat_out_of_scope(self, intent, sent):
        t = self.pick(INTENTS["other"]["oos"])
        if self.chance(0.2):
            t = self.pick(["sorry, ", "oh, ", "um, ", "actually, ", "by the way, "]) + t
        return t

    def cat_rambling(self, intent, sent):
        spec = INTENTS[intent]
        if intent == "other":
            if sent == "neutral" and self.chance(0.25):
                return self.pick(spec["neu_long"])
            if sent == "negative" and self.chance(0.15):
                return self.pick(spec["neg_long"])
            pool = HOLD_CLAUSES if sent == "neutral" else LIFE_STRESS
            idx = self.rng.sample(range(len(pool)), len(pool))
            out, n = [], 0
            for i in idx:
                out.append(pool[i])
                n += len(pool[i].split())
                if n >= 44:
                    break
            t = out[0]
            for c in out[1:]:
                t += self.pick([", ", ", ", ", and ", ". "]) + c
            if sent == "negative":
                t += self.pick([", ", ". "]) + self.pick(
                    ["and honestly I've just had enough today", "I'm just exhausted",
                     "and I can't be doing with any of it", "it's all just too much today"])
            return t
        story = list(spec.get("story") or [])
        seq = []
        if self.chance(0.35):
            seq.append(self.pick(RAMBLE_ID))
        n_story = self.rng.randint(1, 3)
        own = self.rng.sample(story, min(len(story), n_story)) if story else []
        gen = self.rng.sample(BACKGROUND, n_story)
        for k in range(n_story):
            seq.append(own[k] if k < len(own) and self.chance(0.6) else gen[k])
        body = seq[0]
        for c in seq[1:]:
            body += self.pick([", ", ", and ", ". ", ", "]) + c
        g = ""
        if sent == "negative":
            g = self.grievance(intent, specific_p=0.7, second_p=0.6, tail_p=0.5)
            body += self.pick([". ", ", and ", ", but ", ". The thing is, ", ". And ", ". But "]) + g
        elif sent == "positive":
            body += self.pick([". ", ", and ", ". Honestly, ", ". I have to say, "]) + self.pick(PRAISE_PRE)
        if intent == "gratitude":
            end = self.pick(spec["pos_long"] + spec["pos"])
        elif sent == "negative":
            end = self.request_after(intent, g)
        else:
            end = self.neutral_core(intent)
        bridge = self.pick(BRIDGE_THANKS if intent == "gratitude" else BRIDGE)
        body += self.pick([", ", ". ", ", "]) + (bridge + " " if bridge in ("so", "so, um") else bridge + ", ") \
            + self.bare(end)
        if self.chance(0.75):
            body = self.attach_opener(self.pick(RAMBLE_OPEN), body)
        return body

    BUILDERS = {
        "plain_request": cat_plain_request, "neutral_negative_words": cat_neutral_negative_words,
        "calm_complaint": cat_calm_complaint, "grievance_request": cat_grievance_request,
        "thanks_in_complaint": cat_thanks_in_complaint, "sarcasm": cat_sarcasm,
        "positive": cat_positive, "short": cat_short, "backchannel": cat_backchannel,
        "identity": cat_identity, "out_of_scope": cat_out_of_scope, "rambling": cat_rambling,
    }

    def make(self, intent: str, category: str, sent: str):
        """One finished utterance (text, core) or None."""
        tmpl = self.BUILDERS[category](self, intent, sent)
        if tmpl is None:
            return None
        res = self.realise(intent, tmpl)
        if res is None:
            return None
        text, ctx = res
        nw = len(text.split())
        if category == "rambling" and not 40 <= nw <= 100:
            return None
        if category == "short" and nw > 4:
            return None
        text = self.regional(text, ctx, category)
        clean = text
        text = whisper_noise(text, self.rng, sentiment=sent, short=category in ("short", "backchannel"),
                             ident=category == "identity")
        nw = len(text.split())
        if (category == "short" and nw > 4) or (category == "rambling" and not 40 <= nw <= 100):
            return None
        return text, clean


# ===========================================================================
# ASR surface noise (label preserving)
# ===========================================================================
AUX_Q = {"is", "was", "were", "have", "has", "do", "does", "did", "will", "am", "are", "can", "could",
         "would", "should", "shall"}
SUBJ = {"it", "there", "my", "the", "you", "i", "this", "that", "anyone", "someone", "he", "she", "they",
        "we", "your", "our", "any"}


EXCLAIM_NEXT = {"a", "an", "lovely", "nice", "great", "wonderful", "brilliant", "kind", "typical",
                "annoying", "funny", "helpful", "marvellous", "fantastic", "perfect", "about"}


def _clause_is_question(clause: str, first: bool = False) -> bool:
    c = LEAD_PHRASES.sub("", clause.strip().lower())
    w = re.findall(r"[a-z']+", c)
    while w and w[0] in LEAD_WORDS:
        w = w[1:]
    if not w:
        return False
    if w[0] in ("what", "how") and len(w) > 1 and w[1] in EXCLAIM_NEXT:
        return False
    if w[0] in AUX_Q:
        return first or (len(w) > 1 and w[1] in SUBJ)
    return w[0] in QWORDS


def _is_question(sentence: str) -> bool:
    """Whisper puts "?" on a turn that is a question: look at the first two
    clauses and the last substantial one."""
    clauses = [c for c in sentence.lower().strip(" ,.").split(",") if c.strip()]
    while len(clauses) > 1 and len(clauses[-1].split()) <= 2:
        clauses.pop()
    if not clauses:
        return False
    return (_clause_is_question(clauses[0], first=True)
            or any(_clause_is_question(c) for c in clauses[1:2] + clauses[-1:]))


def _sentence_case(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return re.sub(r"([.?!]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def whisper_noise(text: str, rng: random.Random, sentiment: str = "neutral", short: bool = False,
                  ident: bool = False) -> str:
    """Make a clean utterance look like a Whisper transcript of phone speech.
    Never changes what is said in a way that would change its labels."""
    t = text
    nw = len(t.split())
    budget = 2 if nw > 12 else 1  # at most this many disfluency/ASR edits

    def go(p):
        nonlocal budget
        if budget > 0 and rng.random() < p:
            budget -= 1
            return True
        return False
    # ASR mis-recognition of one key word
    cands = [(pat, reps) for pat, reps in ASR_SUBS if re.search(pat, t)]
    if cands and go(0.3):
        if cands:
            pat, reps = cands[rng.randrange(len(cands))]
            t = re.sub(pat, reps[rng.randrange(len(reps))], t, count=1)
    # false start / self repair
    if nw >= 4 and go(0.08):
        cands = [(a, b) for a, b in REPAIRS if re.search(r"(^|\s)" + re.escape(a), t)]
        if cands and rng.random() < 0.8:
            a, b = cands[rng.randrange(len(cands))]
            t = re.sub(r"(^|\s)" + re.escape(a), lambda m: m.group(1) + b, t, count=1)
        else:
            w = t.split()
            k = 1 if rng.random() < 0.6 else 2
            t = " ".join(w[:k]).rstrip(",") + ", " + t
    # repeated word
    if nw >= 3 and go(0.05):
        w = t.split()
        i = rng.randrange(len(w) - 1)
        w.insert(i, w[i].rstrip(",.?"))
        t = " ".join(w)
    # dropped small word
    if nw >= 6 and go(0.05):
        w = t.split()
        idx = [i for i, x in enumerate(w) if i > 0 and x.lower() in DROPPABLE]
        if idx:
            del w[idx[rng.randrange(len(idx))]]
            t = " ".join(w)
    # fillers
    if go(0.12 if short else 0.3):
        for _ in range(1 if rng.random() < 0.7 or nw < 10 else 2):
            f = FILLERS[rng.randrange(len(FILLERS))]
            w = t.split()
            mids = [i for i in range(1, len(w)) if not w[i - 1].endswith((".", "?", "!"))]
            if f in ("like", "you know", "I mean") and len(w) > 3 and mids and not ident and rng.random() < 0.5:
                i = mids[rng.randrange(len(mids))]
                if f == "like":
                    w.insert(i, f)
                else:
                    w[i - 1] = w[i - 1].rstrip(",") + ","
                    w.insert(i, f + ",")
            else:
                starts = [0] + [i + 1 for i, x in enumerate(w[:-1]) if x.endswith(",")]
                i = starts[rng.randrange(len(starts))]
                w.insert(i, f + ",")
            t = " ".join(w)
    # "so yeah"
    if nw >= 6 and go(0.05):
        t = t.rstrip(".?!, ") + ", so yeah" if rng.random() < 0.6 else "so yeah, " + t
    t = re.sub(r",\s*,", ",", t)
    t = re.sub(r"\s+", " ", t).strip()
    # casing and punctuation
    r = rng.random()
    if r < 0.62:  # Whisper default: sentence case + punctuation
        if rng.random() < 0.5:
            t = t.replace('"', "")
        t = t.rstrip(" ,")
        if not t.endswith((".", "?", "!")):
            last = re.split(r"[.?!]\s+", t)[-1]
            if _is_question(last):
                t += "?"
            elif sentiment == "positive" and rng.random() < 0.2:
                t += "!"
            else:
                t += "."
        sents = re.split(r"(?<=[.?!])\s+", t)
        sents = [x[:-1] + "?" if x.endswith(".") and _is_question(x) else x for x in sents]
        t = _sentence_case(" ".join(sents))
    elif r < 0.9:  # lower case, no punctuation
        t = t.lower()
        t = re.sub(r'(?<!\d)[.,?!;:"](?!\d)|[.,](?=\s|$)|"', " ", t)
        t = re.sub(r"\s+", " ", t).strip()
    else:  # sentence case, no final stop, commas kept or dropped
        t = t.replace('"', "").rstrip(" .,")
        if rng.random() < 0.5:
            t = re.sub(r",(?=\s)", "", t)
        t = _sentence_case(t)
    t = re.sub(r"\bi\b", "I", t) if r < 0.62 or r >= 0.9 else t
    return t


# ===========================================================================
# Generation
# ===========================================================================
def _norm(text: str) -> str:
    t = re.sub(r"[^a-z0-9' ]", " ", text.lower())
    return re.sub(r"\s+", " ", t).strip()


def _allocate(total: int, plan) -> list[int]:
    raw = [total * s for _, _, s in plan]
    q = [int(x) for x in raw]
    order = sorted(range(len(plan)), key=lambda i: raw[i] - q[i], reverse=True)
    for i in order[: total - sum(q)]:
        q[i] += 1
    return q


def _generate(seed: int, per_intent: int):
    g = _Gen(seed)
    rows, seen, norm_label = [], set(), {}
    cores = defaultdict(set)
    for intent in INTENT_LABELS:
        plan = PLAN[intent]
        quotas = _allocate(per_intent, plan)
        short_of = Counter()

        def fill(cat, sent, want):
            got, tries = 0, 0
            while got < want and tries < want * 30 + 20:
                tries += 1
                res = g.make(intent, cat, sent)
                if res is None:
                    continue
                text, clean = res
                if text in seen:
                    continue
                key = _norm(text)
                if key in norm_label and norm_label[key] != (sent, intent):
                    continue
                seen.add(text)
                norm_label[key] = (sent, intent)
                rows.append({"text": text, "sentiment": sent, "intent": intent, "category": cat})
                if cat == "plain_request":
                    cores[intent].add(_norm(clean))
                got += 1
            return got

        for (cat, sent, _), q in zip(plan, quotas):
            short_of[sent] += q - fill(cat, sent, q)
        for sent in SENTIMENT_LABELS:
            if short_of[sent] > 0:
                fb = (FALLBACK_OTHER if intent == "other" else FALLBACK)[sent]
                if intent == "gratitude":
                    fb = "positive"
                fill(fb, sent, short_of[sent])
    return rows, {"plain_request_cores": {k: len(v) for k, v in cores.items()}}


def generate(seed: int = 0, per_intent: int = 600) -> list[dict]:
    """Self-written English spoken-style call-centre utterances:
    a list of {"text", "sentiment", "intent", "category"}, ~per_intent per intent,
    all texts distinct, deterministic for a seed."""
    return _generate(seed, per_intent)[0]


def inventory() -> dict:
    """Sizes of the hand-written tables (diversity report)."""
    inv = {}
    n_generic = sum(len(v) for v in GRIEVANCE.values())
    n_specific = sum(len(s.get("griev") or []) for s in INTENTS.values())
    inv["generic grievance clauses"] = n_generic
    inv["intent-specific grievance statements"] = n_specific
    inv["product_defect fault reports x tails"] = (
        sum(len(d["fault"]) for d in DOMAINS.values()), len(INTENTS["product_defect"]["fault_tail"]))
    inv["sarcasm frames / openers / events"] = (
        len(SARC_FRAMES), len(SARC_OPENERS), sum(len(s.get("sarc") or []) for s in INTENTS.values()))
    inv["thanks-in-complaint frames"] = len(TIC_FRAMES) + len(TIC_COMPLAINT)
    inv["praise prefixes / suffixes"] = (len(PRAISE_PRE) + len(PRAISE_PRE_ONSITE), len(PRAISE_SUF))
    req = {}
    for i, s in INTENTS.items():
        if i in ("gratitude", "other"):
            continue
        req[i] = len(s.get("req") or []) + len(s.get("frames") or []) + len(s.get("plain") or [])
    inv["request templates per intent (before slot/frame expansion)"] = req
    inv["request phrasings per intent (templates x domain/team/topic values, numbers not counted)"] = {
        i: _count_phrasings(i) for i in req}
    return inv


def _count_phrasings(intent: str) -> int:
    """Upper bound on distinct request phrasings: every template times the slot
    values it can take in every domain allowed for the intent (numbers, names,
    dates and regional variants not counted)."""
    s = INTENTS[intent]
    tmpls = list(s.get("req") or []) + list(s.get("plain") or [])
    for f in s.get("frames") or []:
        tmpls.append(f.replace("{f}", "{fault}"))
    extra = {"team": len(TEAMS), "topic": len(TOPICS)}
    total = 0
    for t in tmpls:
        forced = MARK_DOM.findall(t)
        keys = [k for k in SLOT_RE.findall(t)]
        dkeys = [k for k in keys if k in DOMAIN_KEYS]
        mult = 1
        for k in keys:
            mult *= extra.get(k, 1)
        doms = set(forced) if forced else set(s["domains"])
        if not dkeys:
            total += mult
            continue
        for d in doms:
            n = 1
            for k in dkeys:
                n *= len(DOMAINS[d][k])
            total += n * mult
    return total


def _main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-intent", type=int, default=600)
    ap.add_argument("--out", help="write JSON lines here")
    ap.add_argument("--samples", type=int, default=40)
    a = ap.parse_args(argv)
    t0 = time.time()
    rows, extra = _generate(a.seed, a.per_intent)
    dt = time.time() - t0
    by = Counter((r["intent"], r["sentiment"]) for r in rows)
    print(f"{len(rows)} examples in {dt:.1f} s (seed {a.seed}, per_intent {a.per_intent})")
    print(f"distinct texts: {len(set(r['text'] for r in rows))}; distinct after lower-casing and "
          f"removing punctuation: {len(set(_norm(r['text']) for r in rows))}")
    print(f"\n{'intent':20s} {'negative':>9s} {'neutral':>8s} {'positive':>9s} {'total':>6s}")
    for i in INTENT_LABELS:
        n = [by[(i, s)] for s in SENTIMENT_LABELS]
        print(f"{i:20s} {n[0]:9d} {n[1]:8d} {n[2]:9d} {sum(n):6d}")
    sc = Counter(r["sentiment"] for r in rows)
    print(f"{'ALL':20s} {sc['negative']:9d} {sc['neutral']:8d} {sc['positive']:9d} {len(rows):6d}")
    cc = Counter((r["category"], r["sentiment"]) for r in rows)
    print("\ncategory              negative  neutral  positive")
    for c in CATEGORIES:
        n = [cc[(c, s)] for s in SENTIMENT_LABELS]
        if sum(n):
            print(f"{c:20s} {n[0]:9d} {n[1]:8d} {n[2]:9d}")
    neg = [r for r in rows if r["sentiment"] == "negative"]
    calm = [r for r in neg if not EMOTION_RE.search(r["text"])]
    print(f"\nnegatives without emotion words: {len(calm)}/{len(neg)} ({100 * len(calm) / max(1, len(neg)):.0f} %)")
    lens = [len(r["text"].split()) for r in rows if r["category"] == "rambling"]
    if lens:
        print(f"rambling turns: {len(lens)}, words min {min(lens)} / median {sorted(lens)[len(lens) // 2]} / max {max(lens)}")
    sh = [len(r["text"].split()) for r in rows if r["category"] == "short"]
    if sh:
        print(f"short turns: {len(sh)}, words max {max(sh)}")
    print("\ndistinct plain-request cores per intent (after slot filling, before noise):")
    print("  " + ", ".join(f"{k} {v}" for k, v in extra["plain_request_cores"].items()))
    print("\ninventory:")
    for k, v in inventory().items():
        print(f"  {k}: {v}")
    rng = random.Random(a.seed + 1)
    print(f"\n{a.samples} random samples:")
    for r in rng.sample(rows, min(a.samples, len(rows))):
        print(f"  [{r['sentiment'][:3]} {r['intent']:17s} {r['category']:22s}] {r['text']}")
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"\nwrote {len(rows)} rows to {a.out}")


if __name__ == "__main__":
    _main()
