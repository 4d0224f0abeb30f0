"""Label taxonomy, dataset label mappings and self-written call-centre templates
for the callsense English text classifier (callsense-minilm-en-v1).

Everything in this file is written for this project. The third-party datasets
are only *read* (from ../shared/assets/datasets) by train_classifier.py; no
dataset text is copied here.
"""
from __future__ import annotations

import random
import re

SENTIMENT_LABELS = ["negative", "neutral", "positive"]
INTENT_LABELS = [
    "cancel_service", "refund_request", "complaint", "product_defect",
    "repair_request", "order_status", "delivery_problem", "billing_question",
    "payment_problem", "account_access", "plan_change", "promotion_inquiry",
    "product_inquiry", "request_human", "gratitude", "other",
]

# ---------------------------------------------------------------------------
# banking77 -> taxonomy.  Labels that fit nowhere are mapped to None (dropped)
# rather than polluting a class.
# ---------------------------------------------------------------------------
BANKING77_MAP = {
    "card_arrival": "delivery_problem",          # "still waiting on my card"
    "card_delivery_estimate": "order_status",    # "when will my card arrive"
    "card_linking": None,
    "exchange_rate": "product_inquiry",
    "card_payment_wrong_exchange_rate": "billing_question",
    "extra_charge_on_statement": "billing_question",
    "pending_cash_withdrawal": "payment_problem",
    "fiat_currency_support": "product_inquiry",
    "automatic_top_up": "product_inquiry",
    "card_not_working": "product_defect",
    "exchange_via_app": "product_inquiry",
    "lost_or_stolen_card": None,
    "age_limit": "product_inquiry",
    "pin_blocked": "account_access",
    "contactless_not_working": "product_defect",
    "top_up_by_bank_transfer_charge": "billing_question",
    "pending_top_up": "payment_problem",
    "cancel_transfer": None,                      # cancelling a transaction, not the service
    "top_up_limits": "product_inquiry",
    "wrong_amount_of_cash_received": "payment_problem",
    "card_payment_fee_charged": "billing_question",
    "transfer_not_received_by_recipient": "payment_problem",
    "supported_cards_and_currencies": "product_inquiry",
    "getting_virtual_card": "product_inquiry",
    "card_acceptance": "product_inquiry",
    "top_up_reverted": "payment_problem",
    "balance_not_updated_after_cheque_or_cash_deposit": "payment_problem",
    "card_payment_not_recognised": "billing_question",
    "edit_personal_details": None,
    "why_verify_identity": "account_access",
    "unable_to_verify_identity": "account_access",
    "get_physical_card": "product_inquiry",
    "visa_or_mastercard": "product_inquiry",
    "topping_up_by_card": "product_inquiry",
    "disposable_card_limits": "product_inquiry",
    "compromised_card": None,                     # fraud: not in the taxonomy
    "atm_support": "product_inquiry",
    "direct_debit_payment_not_recognised": "billing_question",
    "passcode_forgotten": "account_access",
    "declined_cash_withdrawal": "payment_problem",
    "pending_card_payment": "payment_problem",
    "lost_or_stolen_phone": None,
    "request_refund": "refund_request",
    "declined_transfer": "payment_problem",
    "Refund_not_showing_up": "refund_request",
    "declined_card_payment": "payment_problem",
    "pending_transfer": "payment_problem",
    "terminate_account": "cancel_service",
    "card_swallowed": None,
    "transaction_charged_twice": "billing_question",
    "verify_source_of_funds": None,
    "transfer_timing": "product_inquiry",
    "reverted_card_payment?": "payment_problem",
    "change_pin": "account_access",
    "beneficiary_not_allowed": "payment_problem",
    "transfer_fee_charged": "billing_question",
    "receiving_money": "product_inquiry",
    "failed_transfer": "payment_problem",
    "transfer_into_account": "product_inquiry",
    "verify_top_up": None,
    "getting_spare_card": "product_inquiry",
    "top_up_by_cash_or_cheque": "product_inquiry",
    "order_physical_card": "product_inquiry",
    "virtual_card_not_working": "product_defect",
    "wrong_exchange_rate_for_cash_withdrawal": "billing_question",
    "get_disposable_virtual_card": "product_inquiry",
    "top_up_failed": "payment_problem",
    "balance_not_updated_after_bank_transfer": "payment_problem",
    "cash_withdrawal_not_recognised": "billing_question",
    "exchange_charge": "billing_question",
    "top_up_by_card_charge": "billing_question",
    "activate_my_card": None,
    "cash_withdrawal_charge": "billing_question",
    "card_about_to_expire": "product_inquiry",
    "apple_pay_or_google_pay": "product_inquiry",
    "verify_my_identity": "account_access",
    "country_support": "product_inquiry",
}

# ---------------------------------------------------------------------------
# CLINC150 -> taxonomy.  Intents not listed here map to "other" if their domain
# is in CLINC_OTHER_DOMAINS, otherwise they are dropped.  Explicit None = drop.
# Note: CLINC "cancel" is the meta intent "cancel that / never mind" (cancelling
# the assistant's current action), NOT cancelling a service -> dropped.
# ---------------------------------------------------------------------------
CLINC_MAP = {
    # banking
    "freeze_account": None, "routing": None, "pin_change": "account_access",
    "bill_due": "billing_question", "pay_bill": "billing_question",
    "account_blocked": "account_access", "interest_rate": "product_inquiry",
    "min_payment": "billing_question", "bill_balance": "billing_question",
    "transfer": None, "order_checks": None, "balance": None,
    "spending_history": None, "transactions": None, "report_fraud": None,
    # credit cards
    "replacement_card_duration": None, "expiration_date": None,
    "damaged_card": "product_defect", "improve_credit_score": "other",
    "report_lost_card": None, "card_declined": "payment_problem",
    "credit_limit_change": "plan_change", "apr": "product_inquiry",
    "redeem_rewards": "promotion_inquiry", "credit_limit": None,
    "rewards_balance": "promotion_inquiry", "application_status": None,
    "credit_score": "other", "new_card": "product_inquiry",
    "international_fees": "billing_question",
    # home
    "order_status": "order_status", "order": None,
    # work
    "insurance_change": "plan_change",
    # auto
    "schedule_maintenance": "repair_request",
    # travel
    "lost_luggage": None, "flight_status": None,
    # kitchen
    "cancel_reservation": None, "confirm_reservation": None,
    # small talk
    "thank_you": "gratitude", "are_you_a_bot": None,
    # meta
    "cancel": None,
    # out of scope
    "oos": "other",
}
CLINC_OTHER_DOMAINS = {
    "kitchen_and_dining", "home", "auto_and_commute", "travel", "utility",
    "work", "small_talk", "meta",
}

# Words that make a dataset utterance possibly non-neutral: such utterances keep
# their intent label but get no sentiment label (loss masked).
FRUSTRATION_RE = re.compile(
    r"!|\b(still|again|ridiculous|annoy\w*|frustrat\w*|terrible|awful|angry|upset|"
    r"worst|hate|unacceptable|disappoint\w*|useless|stupid|wtf|damn|sick of|fed up|"
    r"seriously|never)\b", re.I)

# ---------------------------------------------------------------------------
# Self-written core utterances per intent (neutral wording unless the intent is
# inherently emotional).  {n} is replaced by a random number / code.
# ---------------------------------------------------------------------------
INTENT_CORES = {
    "cancel_service": [
        "i want to cancel my subscription", "i'd like to close my account",
        "please cancel my membership", "i need to cancel my internet service",
        "how do i cancel my contract", "i want to terminate my phone plan",
        "can you shut off my service at the end of the month",
        "i'm moving so i need to cancel the broadband",
        "cancel my account effective today please",
        "i don't want the service anymore please close it",
        "i want to end my subscription before it renews",
        "how can i stop my monthly plan completely",
        "i'd like to disconnect my cable service",
        "i'm calling to cancel the gym membership",
        "please deactivate my account and stop billing me",
        "i want out of this contract",
        "can i cancel my streaming subscription over the phone",
        "we're switching providers so cancel our account",
        "close my account number {n}", "i want to unsubscribe from the premium tier",
        "what do i need to do to cancel my policy",
        "i'd like to cancel the service on my second line",
    ],
    "refund_request": [
        "i want a refund for my last order", "can i get my money back",
        "i'd like to return this and get a refund",
        "please refund the charge from last week",
        "i was promised a refund and i haven't received it",
        "how long does a refund take to show up",
        "i need a refund for the ticket i didn't use",
        "can you reverse that payment and refund me",
        "i want to return the shoes for a full refund",
        "i'd like a refund for order {n}",
        "please credit my account for the missed service days",
        "when will i get my refund", "i want my money back for the annual plan",
        "can you refund the delivery fee", "i returned the item two weeks ago where's my refund",
        "i'd like to be reimbursed for the broken part",
        "is it possible to get a partial refund",
        "refund me the {n} dollars please",
        "i cancelled the order so i need the payment refunded",
        "can you issue a refund to my card",
    ],
    "complaint": [
        "your agent was really rude to me yesterday",
        "nobody ever calls me back when you say they will",
        "i've been on hold for forty five minutes",
        "this is the fourth time i'm calling about the same issue",
        "the technician never showed up for the appointment",
        "i was transferred five times and nobody could help",
        "the staff at your store were incredibly unhelpful",
        "i want to make a formal complaint about the service",
        "your customer service is a joke",
        "the person i spoke to hung up on me",
        "i keep getting told different things by different people",
        "you promised a callback and it never happened",
        "the way i was treated in your branch was unacceptable",
        "your process is so complicated it's ridiculous",
        "i waited all day and no one came",
        "your website keeps logging me out and support doesn't care",
        "the chat agent just kept sending me the same link",
        "i'm not happy with how my case has been handled",
        "the manager was dismissive and didn't listen",
        "it took three weeks to get a simple answer from you",
        "i've sent four emails and got no reply",
        "the installer left a mess all over my kitchen",
    ],
    "product_defect": [
        "my phone keeps restarting on its own",
        "the washing machine stopped spinning after a week",
        "the screen on the laptop is cracked out of the box",
        "my router keeps dropping the connection",
        "the charger doesn't work at all",
        "the headphones only play sound on one side",
        "the fridge isn't getting cold anymore",
        "the app crashes every time i open it",
        "the battery dies after an hour",
        "the printer jams on every page",
        "the zipper on the jacket broke the first day",
        "the tv won't turn on",
        "my new vacuum makes a loud grinding noise",
        "the blender's motor burned out",
        "the card reader doesn't read any cards",
        "the heater trips the fuse whenever i turn it on",
        "the camera takes blurry photos no matter what",
        "the set top box freezes every evening",
        "the coffee machine is leaking water everywhere",
        "the tablet won't charge past fifty percent",
        "the keyboard has keys that don't respond",
        "it stopped working after you replaced it",
    ],
    "repair_request": [
        "can you send a technician to fix my boiler",
        "i need to book a repair for my dishwasher",
        "can someone come out and look at the router",
        "i'd like to schedule a service visit",
        "how do i get my phone repaired under warranty",
        "can you fix the screen if i bring it in",
        "i need an engineer to look at the line outside",
        "please arrange a repair appointment for next tuesday",
        "where can i get my laptop serviced",
        "can you send someone to repair the air conditioner",
        "i want to book a warranty repair for order {n}",
        "do you do repairs on older models",
        "can i drop off my tablet for repair",
        "i need the technician to come back and finish the job",
        "can you replace the faulty part for me",
        "is there a repair centre near me",
        "please send out an engineer to fix the connection",
        "how much would it cost to repair the hinge",
        "can i get a repair slot this week",
        "i'd like someone to come and fix the meter",
    ],
    "order_status": [
        "where is my order", "can you tell me the status of order {n}",
        "has my package shipped yet", "when will my order arrive",
        "can you track my delivery for me",
        "i placed an order on monday and want to know where it is",
        "is my parcel out for delivery today",
        "what's the tracking number for my order",
        "has my replacement been sent out",
        "can you check if my order has been dispatched",
        "when is the estimated delivery date",
        "i want to check on my order status",
        "did my order go through", "what stage is my order at",
        "is my new sim card on its way",
        "how long until my order ships",
        "can you confirm my order {n} was received",
        "when should i expect the router to arrive",
        "my order says processing what does that mean",
        "is the order still on track for friday",
    ],
    "delivery_problem": [
        "my package was supposed to arrive yesterday and it didn't",
        "the courier left my parcel at the wrong address",
        "the tracking says delivered but i have nothing",
        "the box arrived crushed and the item is damaged",
        "i received the wrong item in my delivery",
        "the delivery driver never showed up",
        "half of my order is missing",
        "my parcel has been stuck in transit for two weeks",
        "the delivery was left out in the rain",
        "i missed the delivery and there's no card to rebook",
        "my order was returned to sender for no reason",
        "the driver said nobody was home but i was here all day",
        "my groceries came with items missing",
        "the delivery is over a week late",
        "they delivered it to my neighbour without telling me",
        "the package was opened before it got to me",
        "my furniture delivery was cancelled last minute",
        "it says out for delivery for three days now",
        "i got someone else's order",
        "my shipment {n} seems to be lost",
    ],
    "billing_question": [
        "why is my bill higher this month",
        "can you explain this charge on my statement",
        "i don't recognise a payment of {n} dollars",
        "when is my bill due", "what's this extra fee for",
        "i was charged twice for the same thing",
        "can you send me a copy of my invoice",
        "why am i being charged for a service i don't use",
        "how much do i owe right now",
        "my bill shows a late fee but i paid on time",
        "can you break down my monthly charges",
        "what is the roaming charge on my bill",
        "i think my last invoice is wrong",
        "why did the price go up", "i see a charge for {n} i don't understand",
        "can i change my billing date",
        "when will the next bill be sent",
        "is tax included in the price on my bill",
        "i got billed after i cancelled",
        "can you tell me what the activation fee was",
    ],
    "payment_problem": [
        "my card payment keeps getting declined",
        "i tried to pay my bill online and it failed",
        "the payment went through twice on my card",
        "your system won't accept my credit card",
        "my direct debit bounced", "the payment is stuck on pending",
        "i paid but my account still shows an outstanding balance",
        "the transfer didn't go through",
        "i can't update my payment method",
        "the checkout page gives an error when i pay",
        "my bank says the payment left but you haven't received it",
        "the autopay didn't take the money this month",
        "i keep getting a payment failed message",
        "paypal isn't working on your website",
        "it won't let me pay with my debit card",
        "my top up failed but money left my account",
        "the payment of {n} was rejected",
        "why was my card declined when there's money on it",
        "the app says transaction error every time",
        "i set up a payment plan but the instalment didn't go out",
    ],
    "account_access": [
        "i can't log into my account", "i forgot my password",
        "my account has been locked", "i'm not getting the verification code",
        "how do i reset my pin", "the app says my login details are wrong",
        "i need to change the email on my login",
        "i've been locked out after too many attempts",
        "the two factor code never arrives",
        "i can't get past the security questions",
        "my username isn't recognised",
        "how do i unlock my online account",
        "the password reset link has expired",
        "i can't access my account on the new phone",
        "i need help verifying my identity to get back in",
        "my account was suspended and i don't know why",
        "it keeps saying session expired when i sign in",
        "i don't remember which email i registered with",
        "can you help me get into my account number {n}",
        "the login page just keeps loading",
    ],
    "plan_change": [
        "i'd like to upgrade my plan", "can i switch to a cheaper package",
        "i want to downgrade to the basic tier",
        "can i add more data to my plan",
        "i'd like to change my contract to monthly",
        "how do i move to the unlimited plan",
        "can i add another line to my account",
        "i want to remove the sports package",
        "i'd like faster broadband speeds",
        "can i change to the family plan",
        "please switch me to paperless billing plan",
        "i want to add international calling to my plan",
        "can i upgrade my phone early",
        "i'd like to reduce my coverage",
        "what would it cost to go up to the premium plan",
        "i want to change my tariff",
        "can i pause my plan for two months",
        "i'd like to add the movie channels",
        "move me to the {n} gigabyte plan please",
        "i need to change my insurance plan",
    ],
    "promotion_inquiry": [
        "do you have any deals on at the moment",
        "is there a discount for existing customers",
        "i saw an ad for half price broadband can i get that",
        "can i use a promo code on my order",
        "are there any offers for students",
        "my promo code isn't working",
        "is the black friday deal still available",
        "do you offer a loyalty discount",
        "can i get the new customer price",
        "what rewards do i get for referring a friend",
        "how do i redeem my reward points",
        "is there a bundle deal for tv and internet",
        "can you match a competitor's offer",
        "when does the spring sale start",
        "do you have any free trials",
        "i was told i'd get three months free",
        "is there a discount if i pay yearly",
        "can i apply the voucher {n} to my account",
        "are there any cashback offers",
        "what's the best deal you can give me",
    ],
    "product_inquiry": [
        "does this phone support 5g",
        "what's the difference between the two models",
        "is the laptop available in silver",
        "how much storage does the tablet have",
        "do you sell replacement filters",
        "is the router compatible with my old modem",
        "what's the warranty on the washing machine",
        "does the plan include international roaming",
        "what sizes does the jacket come in",
        "is this model in stock",
        "how fast is your fibre broadband",
        "can the speaker connect to bluetooth",
        "what channels come with the basic package",
        "does the fridge have an ice maker",
        "what are your opening hours",
        "do you deliver to rural areas",
        "how does the cloud backup work",
        "what's included with product {n}",
        "is the vacuum cordless",
        "can i use the card abroad",
    ],
    "request_human": [
        "can i speak to a real person please",
        "i want to talk to a human", "put me through to an agent",
        "let me speak to your manager",
        "is there a person i can talk to",
        "transfer me to customer service",
        "i don't want to talk to a machine",
        "operator please", "representative",
        "can i get a supervisor on the line",
        "connect me with someone who can actually help",
        "i need to speak to someone in billing",
        "stop the automated menu and get me a person",
        "can a human call me back",
        "agent agent agent",
        "i'd like to speak with a live agent",
        "please transfer me to a representative",
        "get me a real human being",
        "i want to escalate this to a manager",
        "can you hand me over to a colleague",
    ],
    "gratitude": [
        "thank you so much", "thanks that's really helpful",
        "i really appreciate your help", "cheers that sorted it",
        "you've been brilliant thank you", "thanks for your patience",
        "that's great thanks a lot", "thank you for sorting that out",
        "many thanks for your help today", "thanks you've been very helpful",
        "brilliant thank you", "i appreciate you taking the time",
        "thanks a million", "that was really helpful thank you",
        "perfect thanks for your help", "thank you you're a star",
        "great job thank you", "thanks for fixing it so quickly",
        "you've made my day thanks", "thank you for explaining it so clearly",
    ],
    "other": [
        "what's the weather going to be like tomorrow",
        "hold on a second", "can you hear me", "sorry i didn't catch that",
        "my dog is barking give me a moment", "yes", "no", "okay",
        "what time is it", "hello", "hang on let me find it",
        "i'm just driving give me a minute", "could you repeat that",
        "my name is john smith", "it's spelled s m i t h",
        "my postcode is {n}", "the number is {n}",
        "tell me a joke", "who won the game last night",
        "sorry wrong number", "let me grab a pen",
        "i'm calling from my work phone",
    ],
}

# Default sentiment of a core utterance (before decoration).
INTENT_BASE_SENTIMENT = {i: "neutral" for i in INTENT_LABELS}
INTENT_BASE_SENTIMENT["complaint"] = "negative"
INTENT_BASE_SENTIMENT["gratitude"] = "positive"

# ---------------------------------------------------------------------------
# Sentiment decorations (prefix, suffix).  Combined with cores of any intent.
# ---------------------------------------------------------------------------
NEG_PREFIX = [
    "this is ridiculous", "i'm really fed up", "honestly this is the worst service",
    "this is the third time i'm calling about this", "i'm so frustrated",
    "nobody has helped me so far", "oh great just great", "i'm not happy at all",
    "with all due respect this is completely unacceptable",
    "i'm trying to stay calm here but", "look i've had enough",
    "i'm sorry but i'm really angry", "seriously", "you know what this is a joke",
    "i've wasted my whole morning on this", "i'm absolutely furious",
    "i'm very disappointed", "wonderful, another problem", "i can't believe this",
    "i've been a customer for ten years and this is how you treat me",
    "i'm losing my patience", "i'm sick and tired of this",
    "it broke again", "third time this month", "this keeps happening",
    "same problem again", "it's the second time it's failed",
]
NEG_SUFFIX = [
    "this is unacceptable", "and frankly i'm furious", "i'm sick of it",
    "you people keep messing this up", "worst experience ever",
    "i'm really disappointed", "and nobody seems to care",
    "this is the last straw", "i'm fed up with your company",
    "it's a complete disaster", "i'm thinking of leaving", "it's a nightmare",
    "honestly it's pathetic", "thanks for nothing", "i'm so annoyed",
    "what a waste of time", "i'm not impressed at all",
    "this is the third time it's broken", "and it's broken again",
    "it's the second time this month", "and it still isn't fixed",
    "it keeps happening over and over", "fourth call about the same thing",
]
POS_PREFIX = [
    "hi there hope you're well", "thanks for picking up so quickly",
    "you guys have been great so far", "i love your service by the way",
    "first of all the last agent was lovely", "good morning, happy customer here",
    "i've always had great service from you", "brilliant, thanks for answering",
    "so pleased i got through straight away",
]
POS_SUFFIX = [
    "thanks so much", "i really appreciate it", "you've been super helpful",
    "honestly no complaints", "love the service", "you're a star",
    "that's brilliant", "really happy with you guys", "cheers, great service",
    "perfect, thank you", "much appreciated",
]
NEU_PREFIX = [
    "hi", "hello", "good morning", "good afternoon", "yeah so", "okay so",
    "um", "uh hi", "hi i'm calling because", "hello i was wondering",
    "yes hi", "right so", "hi my account number is {n} and",
    "hi this is sarah", "hello it's mark here",
]
NEU_SUFFIX = [
    "please", "if you could", "when you get a chance", "my reference is {n}",
    "the account is under my name", "could you check", "for my account",
    "the order number is {n}", "", "", "",
]

# Stand-alone sentiment utterances (no intent label unless given).
# (text, sentiment, intent or None)
SENTIMENT_EXTRAS = [
    # negation -> positive
    ("not bad at all", "positive", None), ("that's not bad at all actually", "positive", None),
    ("i can't complain", "positive", None), ("no complaints from me", "positive", None),
    ("not a problem at all, that works perfectly", "positive", None),
    ("it wasn't as hard as i expected, nice", "positive", None),
    ("i have no issues, everything works great", "positive", None),
    ("never had a better experience", "positive", "gratitude"),
    ("couldn't be happier thank you", "positive", "gratitude"),
    ("nothing to complain about, thanks", "positive", "gratitude"),
    ("not disappointed at all, really good", "positive", None),
    ("the new router is amazing, so much faster", "positive", None),
    ("that's wonderful news", "positive", None), ("awesome that works", "positive", None),
    ("oh that's perfect, exactly what i needed", "positive", "gratitude"),
    ("you've fixed it, i'm so relieved", "positive", "gratitude"),
    ("great the refund came through thanks", "positive", "gratitude"),
    ("the engineer was fantastic", "positive", None),
    ("really impressed with how fast that was", "positive", None),
    ("i'm happy with the new plan", "positive", None),
    # negation -> negative
    ("i'm not happy", "negative", None), ("not good enough", "negative", None),
    ("that's not helpful at all", "negative", None),
    ("it doesn't work and nobody cares", "negative", "complaint"),
    ("i'm not satisfied with this answer", "negative", "complaint"),
    ("this is not what i was promised", "negative", "complaint"),
    ("no that's not acceptable", "negative", None),
    ("never buying from you again", "negative", None),
    ("i don't appreciate being lied to", "negative", "complaint"),
    # sarcasm -> negative
    ("great, third time it broke", "negative", "product_defect"),
    ("oh fantastic, another hour on hold", "negative", "complaint"),
    ("wonderful, the app crashed again", "negative", "product_defect"),
    ("brilliant, now i've been charged twice", "negative", "billing_question"),
    ("perfect, just perfect, the delivery is late again", "negative", "delivery_problem"),
    ("thanks a lot for nothing", "negative", "complaint"),
    ("oh great, you lost my parcel", "negative", "delivery_problem"),
    ("lovely, the router died again", "negative", "product_defect"),
    ("amazing service, if you like waiting three weeks", "negative", "complaint"),
    ("yeah really helpful, i've been transferred six times", "negative", "complaint"),
    ("super, another surprise fee on my bill", "negative", "billing_question"),
    ("well done, you managed to break it again", "negative", "product_defect"),
    # polite but angry
    ("i'm sure you're doing your best but this is unacceptable", "negative", "complaint"),
    ("with respect, i've been waiting for a month", "negative", "complaint"),
    ("thank you but frankly i'm extremely disappointed", "negative", "complaint"),
    ("i appreciate you trying but this is a disgrace", "negative", "complaint"),
    ("please understand i'm very upset about this", "negative", None),
    ("i don't want to be rude but your service is terrible", "negative", "complaint"),
    # negative words in neutral requests -> neutral
    ("i need to cancel the broken order's delivery date change", "neutral", None),
    ("can you tell me what happens if the payment fails", "neutral", "product_inquiry"),
    ("what's your policy on damaged items", "neutral", "product_inquiry"),
    ("how do i report a faulty product", "neutral", "product_defect"),
    ("i'd like to know the refund policy for broken items", "neutral", "refund_request"),
    ("can you explain the late payment fee", "neutral", "billing_question"),
    ("what do i do if my card gets declined abroad", "neutral", "product_inquiry"),
    ("is there a charge for cancelling early", "neutral", "cancel_service"),
    ("what's the complaints procedure", "neutral", "product_inquiry"),
    ("how do i return a defective item", "neutral", "refund_request"),
    ("i want to cancel the old direct debit and set up a new one", "neutral", "payment_problem"),
    ("no problem, i'll hold", "neutral", "other"),
    ("no, that's everything for now", "neutral", "other"),
    ("nope that's fine", "neutral", "other"),
    ("i don't have the reference number with me", "neutral", "other"),
    # repeated failures -> negative
    ("i want to cancel, it's broken for the fourth time", "negative", "cancel_service"),
    ("close my account, the service has failed again and again", "negative", "cancel_service"),
    ("that's the second time it stopped working this week", "negative", "product_defect"),
    ("i'm done, cancel it, it never works", "negative", "cancel_service"),
    ("my router died for the third time this month", "negative", "product_defect"),
    ("again the same problem, fifth call this week", "negative", "complaint"),
    ("the replacement broke too, i want my money back", "negative", "refund_request"),
    ("it failed again, send someone who can actually fix it", "negative", "repair_request"),
    ("once again my parcel hasn't turned up", "negative", "delivery_problem"),
    ("yet another failed payment, this happens every month", "negative", "payment_problem"),
]

FILLERS = ["um", "uh", "like", "you know", "so", "er", "i mean", "erm"]

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _fill_number(text: str, rng: random.Random) -> str:
    while "{n}" in text:
        k = rng.randint(3, 8)
        digits = [str(rng.randint(0, 9)) for _ in range(k)]
        style = rng.random()
        if style < 0.4:
            num = "".join(digits)
        elif style < 0.75:
            num = " ".join(digits)
        else:
            num = " ".join(DIGIT_WORDS[int(d)] for d in digits)
        text = text.replace("{n}", num, 1)
    return text


def asr_style(text: str, rng: random.Random) -> str:
    """Make text look like a Whisper/ASR transcript or typed chat."""
    r = rng.random()
    if r < 0.5:  # lowercase, no punctuation
        text = re.sub(r"[^\w\s']", " ", text.lower())
        text = re.sub(r"\s+", " ", text).strip()
    elif r < 0.75:  # sentence case with punctuation
        text = text[:1].upper() + text[1:]
        if not text.endswith((".", "?", "!")):
            text += rng.choice([".", ".", "?", "!"]) if "?" not in text else ""
    if rng.random() < 0.25:  # insert a filler
        words = text.split()
        pos = rng.randint(0, max(0, len(words) - 1))
        words.insert(pos, rng.choice(FILLERS))
        text = " ".join(words)
    if rng.random() < 0.08:  # repetition / disfluency
        words = text.split()
        if len(words) > 2:
            i = rng.randint(0, len(words) - 2)
            words.insert(i, words[i])
            text = " ".join(words)
    return text


def _join(*parts: str) -> str:
    parts = [p.strip() for p in parts if p and p.strip()]
    out = []
    for i, p in enumerate(parts):
        if i > 0 and out and not out[-1].endswith((",", ".", "?", "!")):
            p = (", " if len(p) < 25 else ". ") + p
        else:
            p = (" " if i > 0 else "") + p
        out.append(p)
    return "".join(out)


def expand_templates(rng, cores_by_intent, base_of, lex, per_core, dev_core_frac, extras,
                     extra_variants, source, lang=None):
    """Templated examples for one language (shared by the English and Mandarin
    generators; `lex` holds the language's word lists and helpers).

    Whole core utterances (~dev_core_frac per intent) are held out into dev,
    so dev measures unseen wordings, not memorisation; every 5th stand-alone
    sentiment case (`extras`) goes to dev. Returns (train, dev).
    """
    def row(text, sent, intent):
        r = {"text": text, "sentiment": sent, "intent": intent, "source": source}
        if lang:
            r["lang"] = lang
        return r

    join = lex["join"]
    train, dev = [], []
    for intent, cores in cores_by_intent.items():
        idx = list(range(len(cores)))
        rng.shuffle(idx)
        n_dev = max(2, int(round(len(cores) * dev_core_frac)))
        dev_idx = set(idx[:n_dev])
        for ci, core in enumerate(cores):
            base = base_of(intent, core)
            target = dev if ci in dev_idx else train
            seen = set()
            for k in range(per_core):
                # choose sentiment decoration
                if base == "negative":
                    mode = rng.choice(lex["negative_modes"])
                elif base == "positive":
                    mode = rng.choice(lex["positive_modes"])
                elif intent == "other":
                    mode = rng.choice(["plain", "plain", "neu"])
                else:
                    mode = ["plain", "neu", "neg", "pos", "neg", "neu"][k % 6]
                if mode == "plain":
                    text, sent = core, base
                elif mode == "neu":
                    text = join(rng.choice(lex["neu_prefix"]), core, rng.choice(lex["neu_suffix"])) \
                        if rng.random() < 0.7 else join(core, rng.choice(lex["neu_suffix"]))
                    sent = base
                elif mode == "neg":
                    text = join(rng.choice(lex["neg_prefix"]), core) if rng.random() < 0.5 \
                        else join(core, rng.choice(lex["neg_suffix"]))
                    sent = "negative"
                else:  # pos
                    text = join(rng.choice(lex["pos_prefix"]), core) if rng.random() < 0.5 \
                        else join(core, rng.choice(lex["pos_suffix"]))
                    sent = "positive"
                text = lex["asr_style"](lex["fill_number"](text, rng), rng)
                if text in seen:
                    continue
                seen.add(text)
                target.append(row(text, sent, intent))
    for i, (text, sent, intent) in enumerate(extras):
        target = dev if i % 5 == 4 else train
        variants = {text}
        for _ in range(extra_variants):
            variants.add(lex["asr_style"](text, rng))
        for v in sorted(variants):  # sets iterate in a per-process order
            target.append(row(v, sent, intent))
    return train, dev


def generate_templates(seed: int, per_core: int = 6, dev_core_frac: float = 0.2):
    """Generate self-written English examples: (train, dev) lists of dicts
    {text, sentiment, intent, source} (see `expand_templates`)."""
    lex = dict(join=_join, asr_style=asr_style, fill_number=_fill_number,
               neu_prefix=NEU_PREFIX, neu_suffix=NEU_SUFFIX, neg_prefix=NEG_PREFIX,
               neg_suffix=NEG_SUFFIX, pos_prefix=POS_PREFIX, pos_suffix=POS_SUFFIX,
               negative_modes=["plain", "plain", "neg", "neg"], positive_modes=["plain", "plain", "pos"])
    return expand_templates(random.Random(seed), INTENT_CORES,
                            lambda intent, core: INTENT_BASE_SENTIMENT[intent], lex, per_core,
                            dev_core_frac, SENTIMENT_EXTRAS, 3, "callsense_templates")
