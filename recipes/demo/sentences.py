"""Original English sentences for the synthetic demo corpus, generated from templates.

Every sentence here is produced by this file's hand-written templates and word lists (no text is
copied from books or corpora). Generation is deterministic for a seed and prefix-stable: asking
for more sentences only appends, so a corpus rendered with fewer sentences per speaker is a
prefix of one rendered with more.

The sets, disjoint:
    training_sentences()  5–20 words each, covering all 39 ARPAbet phonemes many times, with
                          numbers, dates, times, prices, percentages, names, titles (Dr., Mrs.),
                          questions, exclamations, commas and possessives.
    heldout_sentences()   ~100 plain sentences (lower-case words, no digits, no abbreviations,
                          no names) built from other templates and other content words, for the
                          intelligibility benchmark. Each one has a content word that no training
                          template can produce, so the sets never overlap.
    heldout_sentences(n, sentence_set="everyday")
                          40 everyday sentences, written out by hand (``HELDOUT_EVERYDAY``):
                          common words in common phrasing, the intelligibility benchmark's
                          default. On the template sentences the ASR's language model costs
                          even the flite teachers 13-29% of the words; on these, 2-8.5%.
    varied_sentences()    5–20 words from a small grammar over a broad vocabulary (no digits):
                          statements, questions, commands, exclamations, subordinate and
                          relative clauses, lists; extra text for the duration and F0 models
                          (``make_corpus --sentences varied``), never a held-out sentence.
    lexical_sentences()   the varied sentences with their content words swapped for other
                          CMUdict words of as many syllables (``--sentences lexical``).
    short_sentences()     4-12 words, three content words in four of one syllable, as in
                          plain text (``--sentences short``), never a held-out sentence.

    python -m recipes.demo.sentences --stats                  # phoneme coverage table
    python -m recipes.demo.sentences --count 20               # print sentences
    python -m recipes.demo.sentences --set heldout            # print the held-out set
    python -m recipes.demo.sentences --set short --count 20   # another set (--set varied, ...)
    python -m recipes.demo.sentences --set harvard --stats    # a set's rhythm and coverage
"""

from __future__ import annotations

import argparse
import collections
import functools
import random
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from frontend.g2p import FUNCTION_WORDS
from frontend.lexicon import cmudict
from frontend.phonemes import ARPABET, VOWELS, split_stress

MIN_WORDS = 5
MAX_WORDS = 20
DEFAULT_HELDOUT_COUNT = 100

# ---------------------------------------------------------------------------------------------
# Training word lists. Chosen so that rare phonemes (ZH, OY, UH, TH, DH, Y, AW, JH, NG) recur in
# many different words and neighbours, not just in one frequent word.

FIRST_NAMES = (
    "Alice", "Omar", "Nadia", "Jonathan", "Zoe", "Theo", "Charlotte", "Joyce", "Roy", "Hugo",
    "Victor", "Sheila", "George", "Judith", "Ethan", "Vanessa", "Gareth", "Ingrid", "Lloyd",
    "Bethany", "Martin", "Chloe", "Oscar", "Fiona", "Leonard", "Marjorie", "Quentin", "Edith",
    "Ruth", "Keith", "Dorothy", "Jessica", "Angela", "Usha", "Rosa", "Patrick", "Yvonne",
    "Douglas", "Hazel", "Vincent", "Agnes", "Joseph", "Isabel", "Benjamin", "Megan", "Arthur",
    "Owen", "Naomi", "Stuart", "Gloria", "Troy", "Eugene", "Julia", "Howard", "Elaine",
)
SURNAMES = (
    "Thompson", "Fletcher", "Harrison", "Whitaker", "Moreau", "Jensen", "Buchanan", "Murray",
    "Sullivan", "Vaughan", "Nakamura", "Griffith", "Thornton", "Chatterjee", "Douglas", "Ashworth",
    "Bishop", "Fairbanks", "Lopez", "Gallagher", "Mitchell", "Underwood", "Joyce", "Brady",
    "Hutchinson", "Kowalski", "Maxwell", "Osborne", "Patel", "Rivera", "Shepherd", "Young",
)
CITIES = (
    "Leeds", "Glasgow", "Boston", "Denver", "Cardiff", "Belfast", "Toronto", "Melbourne",
    "Dublin", "Portsmouth", "Aberdeen", "Nairobi", "Detroit", "Brooklyn", "Chicago", "Oxford",
    "York", "Seattle", "Lisbon", "Vienna", "Geneva", "Jakarta", "Houston", "Brighton", "Nashville",
)
REGIONS = (
    "the north", "the south coast", "the western islands", "the eastern valleys", "the midlands",
    "the whole country", "the highlands", "the coastal towns", "Asia", "northern Europe",
)
PEOPLE = (
    "the farmer", "the nurse", "the pilot", "my neighbor", "our teacher", "the young boy",
    "the plumber", "the judge", "the lawyer", "the mayor", "the cashier", "the chef",
    "the postman", "the librarian", "her cousin", "his uncle", "the soldier", "the engineer",
    "the journalist", "the shepherd", "the butcher", "the youth leader", "the old woman",
    "the photographer", "my brother", "their mother", "the lifeguard", "the jeweler",
    "the boy next door", "the zoo keeper", "the new manager", "the television presenter",
)
PEOPLE_PLURAL = (
    "students", "voters", "farmers", "nurses", "residents", "shoppers", "drivers", "workers",
    "teachers", "visitors", "employees", "pupils", "fishermen", "musicians", "children",
)
OBJECTS = (
    "lamp", "kettle", "bicycle", "umbrella", "ladder", "suitcase", "piano", "garage",
    "television", "treasure chest", "jigsaw puzzle", "chair", "fishing boat", "violin",
    "notebook", "cushion", "envelope", "bucket", "shovel", "compass", "saucepan", "mirror",
    "toolbox", "rug", "trumpet", "anchor", "lantern", "carpet", "basket", "drawer", "jacket",
    "feather", "telescope", "vase", "thermos", "hammock", "clock", "mattress", "helmet", "sofa",
    "cabinet", "tray", "kite", "map", "wheelbarrow", "engine", "toy", "oil lamp", "bookcase",
    "wool scarf", "cookbook", "sugar bowl", "measuring jug", "coin purse", "leather boot",
    "pudding bowl", "photograph", "orange", "fridge", "typewriter", "hourglass", "birdcage",
    "ceiling lamp", "ping pong table", "sewing machine", "fishing rod", "string of beads",
    "swing", "reading lamp", "wedding ring",
)
OBJECTS_PLURAL = (
    "apples", "boxes", "chairs", "tickets", "books", "candles", "oysters", "coins", "toys",
    "pencils", "bottles", "cookies", "towels", "flowers", "envelopes", "batteries", "puzzles",
    "umbrellas", "sandwiches", "jars of jam", "bags of sugar", "loaves of bread", "cups",
    "jackets", "televisions", "garden chairs", "footballs", "postcards", "oranges", "pumps",
    "houses", "paintings", "measuring tapes", "thimbles", "badges", "watches",
)
BUILDINGS_PLURAL = (
    "houses", "schools", "bridges", "libraries", "hospitals", "parks", "garages", "shops",
    "leisure centers", "playgrounds", "cycle paths", "bus shelters",
)
ADJECTIVES = (
    "old", "yellow", "heavy", "broken", "tiny", "shiny", "beige", "wooden", "enormous", "dusty",
    "purple", "fragile", "smooth", "rusty", "noisy", "unusual", "ordinary", "antique", "bright",
    "damp", "leather", "frozen", "velvet", "striped", "orange", "huge", "ugly", "awkward",
    "cheap", "precious", "crooked", "spotless", "oily", "soggy", "thick", "thin", "golden",
    "square", "round", "casual", "turquoise", "royal", "loyal", "moist", "youthful", "sturdy",
    "brown", "good", "woolen", "cozy", "genuine", "lovely", "expensive", "visual", "usual",
)
PREDICATE_ADJECTIVES = (
    "missing", "broken", "too heavy", "perfectly clean", "still warm", "soaking wet",
    "surprisingly cheap", "rather noisy", "a bit crooked", "much smaller", "completely empty",
    "unusually quiet", "full of oil", "covered in dust", "worth a fortune", "out of order",
    "locked", "ready", "too loud", "painted beige", "hidden away", "as good as new",
)
# (past tense, base form) of transitive verbs that make sense with any object above.
VERBS = (
    ("painted", "paint"), ("carried", "carry"), ("washed", "wash"), ("measured", "measure"),
    ("fixed", "fix"), ("borrowed", "borrow"), ("delivered", "deliver"), ("found", "find"),
    ("dropped", "drop"), ("sold", "sell"), ("bought", "buy"), ("moved", "move"),
    ("cleaned", "clean"), ("polished", "polish"), ("wrapped", "wrap"), ("hid", "hide"),
    ("checked", "check"), ("repaired", "repair"), ("returned", "return"), ("weighed", "weigh"),
    ("ordered", "order"), ("loaded", "load"), ("described", "describe"), ("noticed", "notice"),
    ("photographed", "photograph"), ("examined", "examine"), ("chose", "choose"),
    ("shared", "share"), ("threw away", "throw away"), ("pushed", "push"), ("pulled", "pull"),
    ("lifted", "lift"), ("opened", "open"), ("enjoyed", "enjoy"), ("destroyed", "destroy"),
    ("judged", "judge"), ("treasured", "treasure"), ("watched", "watch"), ("touched", "touch"),
    ("shook", "shake"), ("brought", "bring"), ("sketched", "sketch"), ("rescued", "rescue"),
    ("smoothed", "smooth"), ("guarded", "guard"), ("put away", "put away"), ("took", "take"),
    ("avoided", "avoid"), ("pointed at", "point at"), ("thought about", "think about"),
)
# (subject, intransitive past) pairs that read naturally together.
EVENTS_INTRANSITIVE = (
    ("the old bridge", "collapsed"), ("the engine", "stalled"), ("the kettle", "whistled"),
    ("the dog", "barked"), ("the lights", "flickered"), ("the river", "flooded"),
    ("the audience", "cheered"), ("the phone", "rang"), ("a crowd", "gathered"),
    ("the ice", "melted"), ("the baby", "yawned"), ("the thunder", "rumbled"),
    ("the choir", "sang"), ("the church bells", "chimed"), ("the boys", "shouted"),
    ("the wind", "howled"), ("the pipes", "froze"), ("the oven", "smoked"),
    ("the music", "stopped"), ("the roof", "leaked"), ("the tide", "turned"),
    ("the shop", "closed"), ("the noise", "faded"), ("the garage door", "jammed"),
)
PLACES = (
    "behind the shed", "under the bridge", "near the harbor", "inside the garage",
    "beside the river", "at the edge of the village", "in the kitchen", "on the balcony",
    "next to the station", "across the square", "outside the museum", "in the leisure center",
    "by the fountain", "at the top of the stairs", "in the back yard", "under the stairs",
    "near the old mill", "at the bottom of the garden", "on the north path", "in the attic",
    "behind the church", "in the boat house", "beside the pool", "on the thirtieth floor",
    "in the dining room", "near the swimming pool", "along the winding lane",
    "at the parking garage",
)
TIMES = (
    "yesterday", "this morning", "last Thursday", "before lunch", "after the storm",
    "on Sunday evening", "at dawn", "during the holiday", "in the spring", "every autumn",
    "last month", "the day before yesterday", "after supper", "on Tuesday afternoon",
    "at the weekend", "in January", "late last night", "early this year", "two weeks ago",
)
FUTURE_TIMES = (
    "tomorrow", "next week", "on Monday", "after the meeting", "before the weekend",
    "later today", "in the new year", "by Friday", "next month", "this evening",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
VEHICLES = ("train", "bus", "ferry", "coach", "flight", "boat", "tram", "night bus")
EVENT_NOUNS = (
    "concert", "garage sale", "football match", "treasure hunt", "village fair", "wedding",
    "school play", "television interview", "boat race", "book launch", "cookery class",
    "jazz festival", "charity walk", "flower show", "youth club party", "royal visit",
    "singing contest", "spring fair", "long jump final",
)
SHOPS = (
    "market", "bakery", "hardware store", "book shop", "toy shop", "corner shop", "pharmacy",
    "butcher's", "garden center", "supermarket", "jeweler's", "fish market",
)
# gender-neutral, since the names around them are drawn independently
RELATIONS = (
    "a cousin", "the neighbor", "an old friend", "the boss", "a colleague", "the landlord",
    "a classmate", "the business partner",
)
TEAMS = ("our team", "the home side", "the youth team", "the visitors", "the village team")
INTERJECTIONS = ("Oh", "Well", "Oh dear", "Goodness", "Look", "Honestly", "Wow")
# "Ms." is left out: flite spells it as letters.
TITLES = ("Dr.", "Mr.", "Mrs.")
ORDINAL_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}
# small counts are sometimes spelled out, as a reader would meet them in text
SPELLED_NUMBERS = {
    2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
    10: "ten", 11: "eleven", 12: "twelve",
}
FLIGHT_CODE_FIRST = "ABEKLTUW"
FLIGHT_CODE_SECOND = "ABCJKMRXZ"

TRAINING_TEMPLATES = (
    # short ones
    "{Title} {Surname} {verb_past} the {object}.",
    "Where is the {adj} {object}?",
    "{Name} {verb_past} {a_object} {time}.",
    "Thank you for the {adj} {object}!",
    "Is this {Name}'s {object}?",
    # plain statements
    "{Name} {verb_past} the {adj} {object} {place}.",
    "{person} {verb_past} {a_adj_object} {time}.",
    "{event_clause} {time}, so {person} {verb_past} the {object}.",
    "The {adj} {object} {place} belongs to {Name} {Surname}.",
    "{Name} says the {object} is {predicate} again.",
    "{person} left the {adj} {object} {place} for {Name}.",
    "Nobody knew that the {object} {place} was {predicate}.",
    "The {object} that {Name} {verb_past} {time} was {predicate}.",
    "{Name} and {Name} {verb_past} {a_object} and {a_object} {time}.",
    # commas, lists, clauses
    "{Name} packed {a_object}, {a_object} and {a_adj_object} for the trip to {City}.",
    "After the {event}, {person} {verb_past} the {adj} {object} {place}.",
    "If the {object} breaks again, {Name} will {verb_base} it {future_time}.",
    "{Name}, {relation} of {Name}, {verb_past} the {object} {time}.",
    "However, the {object} was still {predicate} when {Name} arrived.",
    "When {event_clause}, {Name} quietly {verb_past} the {object}.",
    "Yes, {Name}, the {adj} {object} is {place}.",
    "In {City}, {person} {verb_past} {a_adj_object} and then went home.",
    "Although it was late, {Name} {verb_past} the {object} {place}.",
    "The {adj} {object}, which {Name} {verb_past} {time}, is {predicate}.",
    "First {Name} {verb_past} the {object}; then {person} {verb_past} the {object}.",
    "{Name} {verb_past} the {adj} {object} {place}, and {person} {verb_past} {a_adj_object} "
    "{time}.",
    "Because {event_clause} {time}, {Name} and {Name} {verb_past} the {object} {place} "
    "together.",
    # questions
    "Did {Name} remember to {verb_base} the {adj} {object} {time}?",
    "Where did {person} put the {adj} {object}?",
    "Why was the {object} left {place} {time}?",
    "How many {objects} did {Name} {verb_base} {time}?",
    "Could you {verb_base} the {object} before {clock}?",
    "Is the {object} {place} really {predicate}?",
    "Who {verb_past} the {adj} {object} {place}?",
    "Have you seen {Name}'s {adj} {object} anywhere?",
    "When does the {vehicle} from {City} arrive on {weekday}?",
    "Would {Title} {Surname} like to {verb_base} the {object} {future_time}?",
    "Are the {objects} {place} still {predicate}?",
    # exclamations
    "What {a_adj_object} {Name} found {place}!",
    "Watch out, the {object} {place} is {predicate}!",
    "{Name}, please don't {verb_base} the {adj} {object}!",
    "Hooray, {team} won the {event} again!",
    "{Interjection}, {Name} forgot the {object} at the {shop}!",
    "I can't believe {person} {verb_past} the {object}!",
    # numbers, prices, dates, times, percentages
    "{Name} bought {count} {objects} for {price} at the {shop}.",
    "The {event} was moved to {date}, {year}.",
    "The {vehicle} to {City} leaves platform {small_number} at {clock} every {weekday}.",
    "Tickets for the {event} cost {price} each, or {price} for a family.",
    "About {percent} percent of the {people} voted against the plan.",
    "Prices at the {shop} rose by {percent}% in {year}.",
    "Temperatures in {City} reached {small_number} degrees on {weekday} afternoon.",
    "The museum in {City} opened in {year} and has {count} rooms.",
    "{Name} {Surname} scored {small_number} points in the {ordinal} game of the season.",
    "The council approved {count} new {buildings} near {City} on {weekday}.",
    "On {weekday}, {date}, {person} {verb_past} the {object}.",
    "We need {count} more {objects} by {clock} on {weekday}.",
    "{Title} {Surname} paid {price} for {a_adj_object} in {year}.",
    "The {object} weighs {small_number} kilos and costs {price}.",
    "Flight {flight_number} to {City} was delayed by {count} minutes.",
    "Room {room_number} is on the {ordinal} floor, next to the lifts.",
    "The {event} starts at {clock} on {day_of_month}.",
    "Heavy rain is expected across {region} on {weekday} morning.",
    "Nearly {big_number} {people} joined the {event} in {City} last year.",
    "{Title} {Surname} was born in {City} in {birth_year}.",
)

# ---------------------------------------------------------------------------------------------
# Held-out word lists and templates: other content words (none of them appears in any training
# list above), no digits, names or abbreviations.

HELDOUT_PEOPLE = (
    "gardener", "carpenter", "tailor", "sailor", "baker", "dentist", "florist", "fisherman",
    "grandmother", "student", "waiter", "painter", "doctor", "singer", "farmhand", "stranger",
)
HELDOUT_RELATIVES = ("aunt", "grandfather", "nephew", "niece", "grandmother", "stepfather")
HELDOUT_ADJECTIVES = (
    "tall", "quiet", "cheerful", "tired", "clever", "careful", "patient", "busy", "gentle",
    "nervous", "friendly", "sleepy", "proud", "polite", "grumpy", "lonely",
)
# (past, base, objects that make sense with the verb)
HELDOUT_ACTIONS = (
    ("sharpened", "sharpen", ("a knife", "the pencils", "an axe", "the garden shears")),
    ("folded", "fold", ("the shirts", "a napkin", "the laundry", "a blanket")),
    ("mended", "mend", ("a sock", "the fence", "a torn glove", "the fishing net")),
    ("stirred", "stir", ("the soup", "the porridge", "a pot of stew", "the sauce")),
    ("planted", "plant", ("a young tree", "some seeds", "a row of carrots", "a rose bush")),
    ("fed", "feed", ("the kitten", "the hens", "the goats", "the horses")),
    ("peeled", "peel", ("a potato", "an onion", "the carrots", "a pear")),
    ("baked", "bake", ("a pie", "some biscuits", "a loaf of bread", "a cake")),
    ("swept", "sweep", ("the floor", "the steps", "the path", "the porch")),
    ("knitted", "knit", ("a sweater", "a pair of socks", "a hat", "a shawl")),
    ("hung", "hang", ("the washing", "a picture", "the curtains", "a mirror")),
    ("tasted", "taste", ("the soup", "the honey", "the pie", "the lemonade")),
    ("scrubbed", "scrub", ("the pots", "the table", "the floor", "the sink")),
)
HELDOUT_THINGS = (
    "teapot", "candle", "loaf of bread", "bowl of soup", "jar of honey", "pair of gloves",
    "pile of letters", "pumpkin", "kitten", "ribbon", "spoon", "pillow", "hammer", "cabbage",
)
HELDOUT_PETS = ("goat", "puppy", "pony", "donkey", "lamb", "collie")
HELDOUT_PLACES = (
    "orchard", "barn", "cottage", "meadow", "pond", "stable", "chapel", "wharf", "greenhouse",
    "cellar", "hallway", "workshop", "pantry", "lighthouse", "bakery",
)
HELDOUT_TIMES = (
    "in the morning", "at noon", "after dinner", "before sunset", "on a rainy day",
    "in the evening", "at midnight", "in the summer",
)
HELDOUT_TEMPLATES = (
    "The {h_adj} {h_person} {h_action_past} in the {h_place}.",
    "A {h_adj} {h_person} was resting near the {h_place} {h_time}.",
    "My {h_relative} likes to {h_action_base} {h_time}.",
    "We saw a {h_thing} on the table in the {h_place}.",
    "The {h_person} {h_action_past} and walked to the {h_place}.",
    "Please ask the {h_adj} {h_person} to {h_action_base}.",
    "There was a {h_thing} and a {h_thing} beside the {h_place}.",
    "Every day the {h_person} walks with a {h_pet} to the {h_place}.",
    "The {h_person} and the {h_relative} {h_action_past} {h_time}.",
)

# Everyday held-out sentences, written for this project: common words in the order people say
# them. The template sentences above pair words a language model finds unlikely ("every day the
# painter walks with a pony to the orchard"), so the ASR loses words even of the flite teachers
# (13-29% WER); on these, the ten teacher voices score 2-8.5% (`python
# benchmarks/intelligibility.py`), the level of the yardstick of the intelligibility issue.
HELDOUT_EVERYDAY = (
    "I think we should leave before the traffic gets too heavy.",
    "Could you tell me where the nearest train station is?",
    "The weather was much colder than we expected this morning.",
    "She has been working at the hospital for a long time.",
    "We need to buy some milk and bread on the way home.",
    "It was the best film I have seen in years.",
    "The children were very excited about their summer holiday.",
    "He forgot to lock the door when he went out.",
    "My brother is looking for a new job in the city.",
    "Please turn off the lights when you leave the room.",
    "They decided to sell the old house and move closer to work.",
    "The shop on the corner closes early on Sunday.",
    "I would like a cup of coffee with a little sugar.",
    "Our teacher asked us to read the first chapter again.",
    "The water in the lake was warm enough for swimming.",
    "She called her mother to say that she would be late.",
    "We spent the whole afternoon cleaning the kitchen.",
    "The new road will make the journey much shorter.",
    "He always reads the newspaper before breakfast.",
    "It is important to drink plenty of water every day.",
    "The doctor told him to get more rest and eat well.",
    "I left my phone in the car last night.",
    "They have three children and a very large dog.",
    "The music was so loud that nobody could hear a word.",
    "We hope to visit our friends in the country next month.",
    "Most of the students passed the exam without any trouble.",
    "The plane landed safely after a long flight.",
    "She opened the window to let some fresh air into the room.",
    "Nobody knew the answer to the last question.",
    "The price of food has gone up again this year.",
    "He put on his coat and walked out into the snow.",
    "You can find more information on the back of the card.",
    "The library is open every day except on holidays.",
    "I have never been to the south of the country.",
    "The little girl was holding her father's hand.",
    "We should probably ask someone for directions.",
    "The team played well but lost the game in the last minute.",
    "It took us two hours to get back home.",
    "She bought a blue dress for her sister's wedding.",
    "The garden looks beautiful at this time of year.",
)
SENTENCE_SETS = ("templates", "everyday")

_SLOT = re.compile(r"\{(\w+)\}")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else ORDINAL_SUFFIXES.get(n % 10, "th")
    return f"{n}{suffix}"


# IEEE "Harvard" sentences, lists 1-4 (public domain): held out, the test set of
# benchmarks/alignment_accuracy.py and benchmarks/prosody_vs_teacher.py; no training sentence
# and no word of the lexical set comes from them.
HARVARD_SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
    "The small pup gnawed a hole in the sock.",
    "The fish twisted and turned on the bent hook.",
    "Press the pants and sew a button on the vest.",
    "The swan dive was far short of perfect.",
    "The beauty of the view stunned the young boy.",
    "Two blue fish swam in the tank.",
    "Her purse was full of useless trash.",
    "The colt reared and threw the tall rider.",
    "It snowed, rained, and hailed the same morning.",
    "Read verse out loud for pleasure.",
    "Hoist the load to your left shoulder.",
    "Take the winding path to reach the lake.",
    "Note closely the size of the gas tank.",
    "Wipe the grease off his dirty face.",
    "Mend the coat before you go out.",
    "The wrist was badly strained and hung limp.",
    "The stray cat gave birth to kittens.",
    "The young girl gave no clear response.",
    "The meal was cooked before the bell rang.",
    "What joy there is in living.",
)


def _starts_with_vowel_sound(phrase: str) -> bool:
    word = phrase.split()[0].lower()
    pronunciations = cmudict().get(word)
    if pronunciations:
        return split_stress(pronunciations[0][0])[0] in VOWELS
    return word[0] in "aeiou"


def _with_article(phrase: str) -> str:
    return ("an " if _starts_with_vowel_sound(phrase) else "a ") + phrase


def _price(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return f"${rng.randrange(1, 20)}.{rng.randrange(0, 100):02d}"
    if kind == 1:
        return f"${rng.randrange(2, 100)}"
    if kind == 2:
        return f"${rng.randrange(1, 10) * 50 + rng.choice((0, 25))}"
    return f"{rng.randrange(2, 60)} dollars"


def _date(rng: random.Random, day_first: bool) -> str:
    """"May 3rd" or "the 3rd of May", always a day the month has."""
    month = rng.randrange(12)
    day = _ordinal(rng.randrange(1, DAYS_IN_MONTH[month] + 1))
    return f"the {day} of {MONTHS[month]}" if day_first else f"{MONTHS[month]} {day}"


def _clock(rng: random.Random) -> str:
    hour, minute = rng.randrange(1, 13), rng.choice((0, 5, 10, 15, 20, 30, 40, 45, 50))
    if minute == 0 and rng.random() < 0.5:
        return f"{hour} o'clock"
    return f"{hour}:{minute:02d}"


def _count(rng: random.Random) -> str:
    n = rng.choice((rng.randrange(2, 13), rng.randrange(13, 100), rng.randrange(100, 1000)))
    return SPELLED_NUMBERS[n] if n in SPELLED_NUMBERS and rng.random() < 0.5 else str(n)


def _big_number(rng: random.Random) -> str:
    n = rng.randrange(1, 100) * 100 + rng.choice((0, 0, 50, rng.randrange(1, 100)))
    return f"{n:,}"


def _training_fillers(rng: random.Random) -> dict[str, Callable[[], str]]:
    """One thunk per slot name; each call draws a fresh value."""
    choice = rng.choice
    return {
        "Name": lambda: choice(FIRST_NAMES),
        "Surname": lambda: choice(SURNAMES),
        "Title": lambda: choice(TITLES),
        "City": lambda: choice(CITIES),
        "region": lambda: choice(REGIONS),
        "person": lambda: choice(PEOPLE),
        "people": lambda: choice(PEOPLE_PLURAL),
        "object": lambda: choice(OBJECTS),
        "objects": lambda: choice(OBJECTS_PLURAL),
        "a_object": lambda: _with_article(choice(OBJECTS)),
        "a_adj_object": lambda: _with_article(f"{choice(ADJECTIVES)} {choice(OBJECTS)}"),
        "buildings": lambda: choice(BUILDINGS_PLURAL),
        "adj": lambda: choice(ADJECTIVES),
        "predicate": lambda: choice(PREDICATE_ADJECTIVES),
        "verb_past": lambda: choice(VERBS)[0],
        "verb_base": lambda: choice(VERBS)[1],
        "place": lambda: choice(PLACES),
        "time": lambda: choice(TIMES),
        "future_time": lambda: choice(FUTURE_TIMES),
        "weekday": lambda: choice(WEEKDAYS),
        "month": lambda: choice(MONTHS),
        "vehicle": lambda: choice(VEHICLES),
        "event": lambda: choice(EVENT_NOUNS),
        "shop": lambda: choice(SHOPS),
        "relation": lambda: choice(RELATIONS),
        "team": lambda: choice(TEAMS),
        "Interjection": lambda: choice(INTERJECTIONS),
        "count": lambda: _count(rng),
        "small_number": lambda: str(rng.randrange(2, 40)),
        "big_number": lambda: _big_number(rng),
        "percent": lambda: str(rng.randrange(2, 96)),
        "price": lambda: _price(rng),
        "clock": lambda: _clock(rng),
        "year": lambda: str(rng.randrange(1950, 2031)),
        "date": lambda: _date(rng, day_first=False),
        "day_of_month": lambda: _date(rng, day_first=True),
        "birth_year": lambda: str(rng.randrange(1930, 2006)),
        "ordinal": lambda: _ordinal(rng.randrange(1, 21)),
        "flight_number": lambda: (
            f"{choice(FLIGHT_CODE_FIRST)}{choice(FLIGHT_CODE_SECOND)}{rng.randrange(10, 1000)}"
        ),
        "room_number": lambda: str(rng.randrange(100, 1000)),
        # subject and verb drawn together so that they agree
        "event_clause": lambda: " ".join(choice(EVENTS_INTRANSITIVE)),
    }


def _heldout_fillers(rng: random.Random) -> dict[str, Callable[[], str]]:
    choice = rng.choice

    def action(past: bool) -> str:
        past_form, base_form, objects = choice(HELDOUT_ACTIONS)
        return f"{past_form if past else base_form} {choice(objects)}"

    return {
        "h_person": lambda: choice(HELDOUT_PEOPLE),
        "h_relative": lambda: choice(HELDOUT_RELATIVES),
        "h_adj": lambda: choice(HELDOUT_ADJECTIVES),
        "h_action_past": lambda: action(past=True),
        "h_action_base": lambda: action(past=False),
        "h_thing": lambda: choice(HELDOUT_THINGS),
        "h_pet": lambda: choice(HELDOUT_PETS),
        "h_place": lambda: choice(HELDOUT_PLACES),
        "h_time": lambda: choice(HELDOUT_TIMES),
    }


def _fill(template: str, fillers: dict[str, Callable[[], str]]) -> str:
    def replace(match: re.Match[str]) -> str:
        slot = match.group(1)
        if slot not in fillers:
            raise KeyError(f"template slot {{{slot}}} has no word list (template: {template!r})")
        return fillers[slot]()

    sentence = _SLOT.sub(replace, template)
    return sentence[0].upper() + sentence[1:]


def count_words(sentence: str) -> int:
    """Whitespace-separated tokens of the written sentence ("$4.50" is one word)."""
    return len(sentence.split())


def _generate(
    count: int,
    seed: int,
    templates: Sequence[str],
    fillers: Callable[[random.Random], dict[str, Callable[[], str]]],
    what: str,
) -> list[str]:
    if count < 0:
        raise ValueError(f"cannot generate {count} {what} sentences: the count must be >= 0")
    rng = random.Random(seed)
    slots = fillers(rng)
    sentences: list[str] = []
    seen: set[str] = set()
    misses = 0
    while len(sentences) < count:
        sentence = _fill(rng.choice(templates), slots)
        if sentence in seen or not MIN_WORDS <= count_words(sentence) <= MAX_WORDS:
            misses += 1
            # Far more misses than hits means the templates cannot make that many sentences.
            if misses > 1000 + 10 * count:
                raise ValueError(
                    f"the {what} templates yield only {len(sentences)} distinct sentences, "
                    f"{count} were asked for: ask for fewer or add templates/words"
                )
            continue
        seen.add(sentence)
        sentences.append(sentence)
    return sentences


def training_sentences(count: int = 1000, seed: int = 0) -> list[str]:
    """``count`` distinct training sentences; ``training_sentences(n)`` is a prefix of ``(n+1)``."""
    return _generate(count, seed, TRAINING_TEMPLATES, _training_fillers, "training")


def heldout_sentences(count: int = DEFAULT_HELDOUT_COUNT, seed: int = 0,
                      sentence_set: str = "templates") -> list[str]:
    """Plain held-out sentences for the intelligibility benchmark, disjoint from training.

    ``sentence_set``: "templates" (generated, ``seed`` picks them) or "everyday" (the first
    ``count`` of ``HELDOUT_EVERYDAY``, a fixed list: ``seed`` does not apply).
    """
    if sentence_set == "everyday":
        if not 1 <= count <= len(HELDOUT_EVERYDAY):
            raise ValueError(f"the everyday set has {len(HELDOUT_EVERYDAY)} sentences; ask for "
                             f"1 to {len(HELDOUT_EVERYDAY)}, not {count}")
        return list(HELDOUT_EVERYDAY[:count])
    if sentence_set != "templates":
        raise ValueError(f"unknown sentence set {sentence_set!r}: use one of "
                         f"{', '.join(SENTENCE_SETS)}")
    # A different seed stream from training: the sets are disjoint by vocabulary anyway.
    return _generate(count, seed + 1_000_003, HELDOUT_TEMPLATES, _heldout_fillers, "held-out")


def words_of(sentence: str) -> list[str]:
    """Lower-case words of a sentence as CMUdict spells them (digits and symbols dropped)."""
    return _WORD.findall(sentence.lower())


def training_vocabulary() -> frozenset[str]:
    """Every word a training sentence can contain (for checking the held-out set against)."""
    texts: list[str] = [_SLOT.sub(" ", t) for t in TRAINING_TEMPLATES]
    for word_list in (
        FIRST_NAMES, SURNAMES, CITIES, REGIONS, PEOPLE, PEOPLE_PLURAL, OBJECTS, OBJECTS_PLURAL,
        BUILDINGS_PLURAL, ADJECTIVES, PREDICATE_ADJECTIVES, PLACES, TIMES, FUTURE_TIMES,
        WEEKDAYS, MONTHS, VEHICLES, EVENT_NOUNS, SHOPS, RELATIONS, TEAMS, INTERJECTIONS, TITLES,
    ):
        texts.extend(word_list)
    texts.extend(" ".join(pair) for pair in VERBS + EVENTS_INTRANSITIVE)
    texts.extend(f"{name}'s" for name in FIRST_NAMES)
    texts.extend(SPELLED_NUMBERS.values())
    # words the number fillers write: "a"/"an", dates, prices, ordinal suffixes, flight codes
    texts.append("a an the of dollars o'clock st nd rd th")
    texts.extend(a + b for a in FLIGHT_CODE_FIRST for b in FLIGHT_CODE_SECOND)
    return frozenset(word for text in texts for word in words_of(text))


# ---------------------------------------------------------------------------------------------
# Varied sentences: a small grammar over a broad vocabulary, for the prosody models only (flite
# renders them for its phone times and F0; see recipes/demo/RESULTS.md, session 8, plan item 3).
# The templates above repeat a small vocabulary in a few rhythms; these sentences vary the
# words (1-4 syllables, stress anywhere), the sentence types (statements, questions, commands,
# exclamations, subordinate and relative clauses, lists) and the phrase-final word (nouns,
# verbs, adjectives, adverbs, pronouns, particles). No held-out sentence can be produced: the
# content words of the held-out templates are not in these lists, and the fixed held-out
# sentences are refused by the generator (``tests/test_demo_corpus.py`` checks both, and the
# Harvard sentences of the prosody benchmark).

# things: (singular, plural)
V_THINGS = (
    ("window", "windows"), ("guitar", "guitars"), ("banana", "bananas"), ("balloon", "balloons"),
    ("machine", "machines"), ("magazine", "magazines"), ("computer", "computers"),
    ("calendar", "calendars"), ("bottle", "bottles"),
    ("camera", "cameras"), ("canoe", "canoes"), ("carpet", "carpets"), ("chimney", "chimneys"),
    ("cupboard", "cupboards"), ("diamond", "diamonds"), ("elephant", "elephants"),
    ("fountain", "fountains"), ("giraffe", "giraffes"), ("hotel", "hotels"),
    ("instrument", "instruments"), ("jacket", "jackets"), ("kangaroo", "kangaroos"),
    ("lemon", "lemons"), ("medal", "medals"), ("melon", "melons"),
    ("motorcycle", "motorcycles"), ("necklace", "necklaces"), ("novel", "novels"),
    ("package", "packages"), ("parcel", "parcels"), ("pebble", "pebbles"), ("pencil", "pencils"),
    ("pepper", "peppers"),
    ("present", "presents"), ("puzzle", "puzzles"), ("radio", "radios"), ("recipe", "recipes"),
    ("rocket", "rockets"), ("saddle", "saddles"), ("sandal", "sandals"), ("shelf", "shelves"),
    ("signal", "signals"), ("statue", "statues"), ("tomato", "tomatoes"),
    ("tractor", "tractors"), ("trolley", "trolleys"), ("tunnel", "tunnels"),
    ("vehicle", "vehicles"),
    ("wagon", "wagons"), ("whistle", "whistles"), ("wallet", "wallets"), ("bracelet", "bracelets"),
    ("cassette", "cassettes"), ("cigar", "cigars"), ("canal", "canals"),
    ("antenna", "antennas"), ("apricot", "apricots"), ("avocado", "avocados"),
    ("battery", "batteries"), ("blueprint", "blueprints"),
    ("bouquet", "bouquets"), ("briefcase", "briefcases"),
    ("butterfly", "butterflies"), ("calculator", "calculators"), ("cannon", "cannons"),
    ("caterpillar", "caterpillars"), ("cathedral", "cathedrals"),
    ("chocolate", "chocolates"), ("coconut", "coconuts"),
    ("crocodile", "crocodiles"), ("cucumber", "cucumbers"), ("dinosaur", "dinosaurs"),
    ("dolphin", "dolphins"), ("dragon", "dragons"), ("eagle", "eagles"), ("emerald", "emeralds"),
    ("engine", "engines"), ("festival", "festivals"), ("gadget", "gadgets"),
    ("garment", "garments"), ("gazelle", "gazelles"), ("gorilla", "gorillas"),
    ("helicopter", "helicopters"), ("horizon", "horizons"),
    ("invitation", "invitations"), ("jellyfish", "jellyfish"), ("journal", "journals"),
    ("kettle", "kettles"), ("keyboard", "keyboards"), ("leopard", "leopards"),
    ("lizard", "lizards"), ("locomotive", "locomotives"), ("mango", "mangoes"),
    ("microphone", "microphones"), ("monument", "monuments"), ("mosquito", "mosquitoes"),
    ("mushroom", "mushrooms"),
    ("orchestra", "orchestras"), ("ornament", "ornaments"), ("paddle", "paddles"),
    ("pamphlet", "pamphlets"), ("parachute", "parachutes"), ("parrot", "parrots"),
    ("pelican", "pelicans"), ("penguin", "penguins"), ("piano", "pianos"),
    ("pineapple", "pineapples"),
    ("pistachio", "pistachios"), ("platform", "platforms"), ("pyramid", "pyramids"),
    ("raccoon", "raccoons"), ("rectangle", "rectangles"), ("sculpture", "sculptures"),
    ("submarine", "submarines"), ("suitcase", "suitcases"),
    ("telephone", "telephones"), ("thermometer", "thermometers"), ("tornado", "tornadoes"),
    ("trophy", "trophies"), ("tulip", "tulips"), ("turtle", "turtles"), ("umbrella", "umbrellas"),
    ("uniform", "uniforms"), ("vitamin", "vitamins"), ("volcano", "volcanoes"),
    ("walnut", "walnuts"), ("waterfall", "waterfalls"), ("zebra", "zebras"),
    ("lantern", "lanterns"), ("feather", "feathers"), ("marble", "marbles"),
    ("receipt", "receipts"), ("report", "reports"), ("request", "requests"),
    ("message", "messages"), ("question", "questions"), ("problem", "problems"),
    ("answer", "answers"), ("design", "designs"), ("device", "devices"), ("career", "careers"),
    ("cartoon", "cartoons"), ("shampoo", "shampoos"), ("guitarist", "guitarists"),
    ("idea", "ideas"), ("opinion", "opinions"), ("decision", "decisions"),
    ("experiment", "experiments"), ("photograph", "photographs"), ("melody", "melodies"),
)
# people: (singular, plural)
V_PEOPLE = (
    ("architect", "architects"), ("musician", "musicians"), ("engineer", "engineers"),
    ("scientist", "scientists"), ("detective", "detectives"), ("professor", "professors"),
    ("pilot", "pilots"), ("manager", "managers"), ("visitor", "visitors"),
    ("volunteer", "volunteers"), ("traveler", "travelers"), ("neighbor", "neighbors"),
    ("customer", "customers"), ("librarian", "librarians"), ("mechanic", "mechanics"),
    ("electrician", "electricians"), ("gymnast", "gymnasts"), ("athlete", "athletes"),
    ("reporter", "reporters"), ("editor", "editors"), ("director", "directors"),
    ("actress", "actresses"), ("actor", "actors"), ("author", "authors"), ("poet", "poets"),
    ("tourist", "tourists"), ("passenger", "passengers"), ("officer", "officers"),
    ("captain", "captains"), ("general", "generals"), ("president", "presidents"),
    ("secretary", "secretaries"), ("inspector", "inspectors"), ("chemist", "chemists"),
    ("surgeon", "surgeons"), ("veterinarian", "veterinarians"), ("plumber", "plumbers"),
    ("jeweler", "jewelers"), ("drummer", "drummers"), ("violinist", "violinists"),
    ("teenager", "teenagers"), ("toddler", "toddlers"), ("grandson", "grandsons"),
    ("daughter", "daughters"), ("brother", "brothers"), ("sister", "sisters"),
    ("partner", "partners"), ("colleague", "colleagues"), ("champion", "champions"),
    ("referee", "referees"), ("employee", "employees"), ("trainee", "trainees"),
    ("inventor", "inventors"), ("explorer", "explorers"), ("historian", "historians"),
    ("mathematician", "mathematicians"), ("photographer", "photographers"),
    ("translator", "translators"), ("announcer", "announcers"), ("guide", "guides"),
)
V_NAMES = (
    "Amanda", "Barbara", "Carlos", "Daniel", "Eleanor", "Frederick", "Gabriel", "Helena",
    "Jasmine", "Kevin", "Laura", "Matthew", "Natalie", "Philip", "Rebecca", "Samuel",
    "Teresa", "Valerie", "William", "Abigail", "Dennis", "Monica", "Raymond", "Sophie",
)
V_PLACE_NOUNS = (
    "kitchen", "library", "garden", "station", "airport", "office", "museum", "market",
    "hospital", "theater", "basement", "corridor", "factory", "harbor", "island", "forest",
    "desert", "valley", "village", "mountain", "laboratory", "restaurant", "apartment",
    "cafeteria", "gallery", "parliament", "stadium", "warehouse", "garage", "classroom",
    "balcony", "courtyard", "lobby", "motel", "canyon", "river", "jungle", "avenue", "cinema",
    "university", "supermarket", "bathroom", "elevator", "playground", "highway", "embassy",
)
V_PREPOSITIONS = (
    "in", "at", "near", "behind", "beside", "inside", "outside", "across", "along", "through",
    "around", "toward", "past", "beyond", "opposite", "underneath", "above", "below",
)
V_ADJECTIVES = (
    "red", "green", "blue", "black", "white", "pink", "gray", "silver", "new", "young",
    "big", "small", "long", "short", "wide", "narrow", "deep", "flat", "soft", "hard", "warm",
    "cold", "cool", "dry", "wet", "clean", "dirty", "empty", "famous", "modern", "ancient",
    "elegant", "enormous", "delicate", "dangerous", "expensive", "beautiful", "wonderful",
    "terrible", "horrible", "excellent", "magnificent", "ridiculous", "mysterious",
    "comfortable", "complicated", "colorful", "peaceful", "powerful", "graceful", "useful",
    "useless", "familiar", "peculiar", "ordinary", "particular", "important", "invisible",
    "electric", "automatic", "fantastic", "gigantic", "romantic", "historic", "electronic",
    "original", "official", "artificial", "curious", "generous", "serious", "precious",
    "obvious", "difficult", "simple", "gentlemanly", "lively", "ugly", "lucky", "happy", "angry",
    "hungry", "thirsty", "noisy", "shiny", "muddy", "sandy", "sticky", "tiny", "fancy",
    "strange", "brave", "calm", "bold", "fierce", "quick", "slow", "loud", "sharp", "bright",
    "secret", "private", "public", "foreign", "local", "natural", "typical", "practical",
    "musical", "magical", "tropical", "unusual", "unknown", "unexpected", "unfinished",
    "abandoned", "forgotten", "frightened", "excited", "delighted", "disappointed",
    "exhausted", "confused", "amazing", "interesting", "boring", "charming", "annoying",
)
# (base, past, -ing) of transitive verbs; the third person is made by rule (``_third_person``)
V_VERBS = (
    ("admire", "admired", "admiring"), ("allow", "allowed", "allowing"),
    ("announce", "announced", "announcing"), ("arrange", "arranged", "arranging"),
    ("attack", "attacked", "attacking"), ("borrow", "borrowed", "borrowing"),
    ("build", "built", "building"), ("catch", "caught", "catching"),
    ("celebrate", "celebrated", "celebrating"), ("collect", "collected", "collecting"),
    ("compare", "compared", "comparing"), ("consider", "considered", "considering"),
    ("deliver", "delivered", "delivering"),
    ("describe", "described", "describing"), ("design", "designed", "designing"),
    ("discover", "discovered", "discovering"), ("draw", "drew", "drawing"),
    ("explain", "explained", "explaining"), ("explore", "explored", "exploring"),
    ("follow", "followed", "following"), ("forget", "forgot", "forgetting"),
    ("hold", "held", "holding"), ("ignore", "ignored", "ignoring"),
    ("imagine", "imagined", "imagining"), ("improve", "improved", "improving"),
    ("inspect", "inspected", "inspecting"), ("introduce", "introduced", "introducing"),
    ("invent", "invented", "inventing"), ("keep", "kept", "keeping"),
    ("lose", "lost", "losing"), ("mention", "mentioned", "mentioning"),
    ("misplace", "misplaced", "misplacing"), ("notice", "noticed", "noticing"),
    ("observe", "observed", "observing"), ("offer", "offered", "offering"),
    ("organize", "organized", "organizing"), ("photograph", "photographed", "photographing"),
    ("prefer", "preferred", "preferring"), ("prepare", "prepared", "preparing"),
    ("protect", "protected", "protecting"), ("publish", "published", "publishing"),
    ("question", "questioned", "questioning"), ("recognize", "recognized", "recognizing"),
    ("recommend", "recommended", "recommending"), ("remember", "remembered", "remembering"),
    ("remove", "removed", "removing"), ("replace", "replaced", "replacing"),
    ("rescue", "rescued", "rescuing"), ("return", "returned", "returning"),
    ("review", "reviewed", "reviewing"), ("select", "selected", "selecting"),
    ("send", "sent", "sending"), ("study", "studied", "studying"),
    ("support", "supported", "supporting"), ("test", "tested", "testing"),
    ("understand", "understood", "understanding"), ("visit", "visited", "visiting"),
    ("want", "wanted", "wanting"), ("win", "won", "winning"), ("write", "wrote", "writing"),
    ("destroy", "destroyed", "destroying"), ("enjoy", "enjoyed", "enjoying"),
    ("examine", "examined", "examining"), ("identify", "identified", "identifying"),
    ("abandon", "abandoned", "abandoning"), ("advertise", "advertised", "advertising"),
    ("guarantee", "guaranteed", "guaranteeing"), ("interrupt", "interrupted", "interrupting"),
    ("memorize", "memorized", "memorizing"), ("sell", "sold", "selling"),
    ("paint", "painted", "painting"), ("open", "opened", "opening"),
    ("carry", "carried", "carrying"), ("push", "pushed", "pushing"),
)
# (base, past, -ing) of intransitive verbs
V_INTRANSITIVE = (
    ("arrive", "arrived", "arriving"), ("laugh", "laughed", "laughing"),
    ("wait", "waited", "waiting"), ("disappear", "disappeared", "disappearing"),
    ("hesitate", "hesitated", "hesitating"), ("complain", "complained", "complaining"),
    ("sleep", "slept", "sleeping"), ("travel", "traveled", "traveling"),
    ("listen", "listened", "listening"), ("succeed", "succeeded", "succeeding"),
    ("apologize", "apologized", "apologizing"), ("disagree", "disagreed", "disagreeing"),
    ("escape", "escaped", "escaping"), ("improvise", "improvised", "improvising"),
    ("panic", "panicked", "panicking"), ("relax", "relaxed", "relaxing"),
    ("smile", "smiled", "smiling"), ("whisper", "whispered", "whispering"),
    ("shiver", "shivered", "shivering"), ("wander", "wandered", "wandering"),
    ("vanish", "vanished", "vanishing"), ("recover", "recovered", "recovering"),
    ("retire", "retired", "retiring"), ("object", "objected", "objecting"),
    ("celebrate", "celebrated", "celebrating"), ("exercise", "exercised", "exercising"),
    ("sing", "sang", "singing"), ("swim", "swam", "swimming"), ("run", "ran", "running"),
    ("fall", "fell", "falling"), ("grow", "grew", "growing"), ("begin", "began", "beginning"),
    ("react", "reacted", "reacting"), ("insist", "insisted", "insisting"),
    ("continue", "continued", "continuing"), ("agree", "agreed", "agreeing"),
)
# adverbs that can end a clause
V_ADVERBS = (
    "quickly", "slowly", "quietly", "loudly", "suddenly", "eventually", "immediately",
    "happily", "sadly", "angrily", "gracefully", "politely", "rudely", "honestly", "easily",
    "badly", "well", "soon", "today", "tonight", "tomorrow", "yesterday", "again", "twice",
    "outside", "upstairs", "downstairs", "abroad", "everywhere", "together", "alone",
    "afterwards", "recently", "regularly", "occasionally", "secretly", "automatically",
    "beautifully", "completely", "entirely", "perfectly", "properly", "anxiously",
    "nervously", "confidently", "patiently", "reluctantly", "deliberately", "accidentally",
    "unexpectedly", "instantly", "early", "late", "here", "there", "now", "before",
)
# adverbs that can open a sentence (followed by a comma)
V_OPENERS = (
    "Unfortunately", "Fortunately", "Meanwhile", "Afterwards", "Apparently", "Naturally",
    "Obviously", "Surprisingly", "Luckily", "Eventually", "Later", "Frankly", "Actually",
    "Nevertheless", "Moreover", "Besides", "Otherwise", "Still", "Finally", "Suddenly",
    "In the end", "At first", "For a while", "Without a word", "As usual", "Of course",
    "To everyone's surprise", "By the way", "On the other hand", "In any case",
)
V_SUBORDINATORS = (
    "when", "because", "although", "before", "after", "until", "while", "if", "since",
    "unless", "as soon as", "even though", "whenever", "once",
)
V_DEGREE = ("very", "rather", "quite", "extremely", "slightly", "incredibly", "almost", "too")
V_MODALS = ("will", "would", "should", "could", "might", "must", "can", "may")
V_PRONOUNS = (("I", "me", 1), ("you", "you", 2), ("he", "him", 3), ("she", "her", 3),
              ("we", "us", 4), ("they", "them", 4))
V_PARTICLE_ENDINGS = ("away", "back", "up", "down", "out", "over", "again", "later")
V_SPELLED_COUNTS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                    "eleven", "twelve", "twenty", "forty", "several", "many", "a few")
V_DETERMINERS = ("the", "the", "the", "a", "this", "that", "my", "your", "our", "their",
                 "his", "her", "every", "another", "one")
V_PLURAL_DETERMINERS = ("the", "the", "both", "these", "those", "my", "our", "their", "all the",
                        "no", "most of the")


def _third_person(base: str) -> str:
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        return base + "es"
    if base.endswith("y") and base[-2] not in "aeiou":
        return base[:-1] + "ies"
    return base + "s"


class _VariedGrammar:
    """Random sentences of the varied set; each draw uses only ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options: Sequence[Any]) -> Any:
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # noun phrases: (text, person) with person 3 (singular) or 4 (plural); 1 and 2 for I/you
    def adjectives(self) -> str:
        r = self.rng.random()
        if r < 0.45:
            return ""
        if r < 0.8:
            return self.pick(V_ADJECTIVES) + " "
        if r < 0.9:
            return f"{self.pick(V_DEGREE)} {self.pick(V_ADJECTIVES)} "
        return f"{self.pick(V_ADJECTIVES)}, {self.pick(V_ADJECTIVES)} "

    def noun_phrase(self, people: bool | None = None, plural: bool | None = None
                    ) -> tuple[str, int]:
        if people is None:
            people = self.chance(0.4)
        if plural is None:
            plural = self.chance(0.35)
        singular, plural_form = self.pick(V_PEOPLE if people else V_THINGS)
        adjectives = self.adjectives()
        if plural:
            determiner = (self.pick(V_SPELLED_COUNTS) if self.chance(0.3)
                          else self.pick(V_PLURAL_DETERMINERS))
            return f"{determiner} {adjectives}{plural_form}", 4
        determiner = self.pick(V_DETERMINERS)
        if determiner == "a":
            determiner = "an" if _starts_with_vowel_sound(adjectives + singular) else "a"
        return f"{determiner} {adjectives}{singular}", 3

    def subject(self) -> tuple[str, int]:
        r = self.rng.random()
        if r < 0.25:
            pronoun = self.pick(V_PRONOUNS)
            return pronoun[0], pronoun[2]
        if r < 0.35:
            return self.pick(V_NAMES), 3
        return self.noun_phrase(people=self.chance(0.7))

    def object_phrase(self) -> str:
        r = self.rng.random()
        if r < 0.12:
            return self.pick(V_PRONOUNS)[1] if self.chance(0.6) else "it"
        if r < 0.2:
            return self.pick(V_NAMES)
        return self.noun_phrase(people=self.chance(0.25))[0]

    def place(self) -> str:
        return f"{self.pick(V_PREPOSITIONS)} the {self.adjectives()}{self.pick(V_PLACE_NOUNS)}"

    def tail(self) -> str:
        """What may follow a verb phrase: nothing, an adverb, a place, or both."""
        r = self.rng.random()
        if r < 0.3:
            return ""
        if r < 0.55:
            return " " + self.pick(V_ADVERBS)
        if r < 0.8:
            return " " + self.place()
        if r < 0.9:
            return f" {self.place()} {self.pick(V_ADVERBS)}"
        return " " + self.pick(V_PARTICLE_ENDINGS)

    def verb(self, person: int, transitive: bool) -> str:
        base, past, ing = self.pick(V_VERBS if transitive else V_INTRANSITIVE)
        r = self.rng.random()
        if r < 0.4:
            return past
        if r < 0.6:
            return _third_person(base) if person == 3 else base
        if r < 0.8:
            return f"{self.pick(V_MODALS)}{' not' if self.chance(0.15) else ''} {base}"
        be = {1: "was", 3: "was"}.get(person, "were")
        if self.chance(0.5):
            be = {1: "am", 3: "is"}.get(person, "are")
        return f"{be} {ing}"

    def clause(self) -> str:
        subject, person = self.subject()
        if self.chance(0.2):  # copular
            be = self.pick(("is", "was", "seemed", "looked", "became")) if person == 3 else \
                self.pick(("are", "were", "seemed", "looked")) if person != 1 else "was"
            complement = self.pick(V_ADJECTIVES)
            if self.chance(0.3):
                complement = f"{self.pick(V_DEGREE)} {complement}"
            return f"{subject} {be} {complement}"
        if self.chance(0.35):
            return f"{subject} {self.verb(person, False)}{self.tail()}"
        return f"{subject} {self.verb(person, True)} {self.object_phrase()}{self.tail()}"

    def listing(self) -> str:
        items = [self.noun_phrase(people=False)[0] for _ in range(self.rng.randrange(3, 5))]
        return ", ".join(items[:-1]) + " and " + items[-1]

    def question(self) -> str:
        kind = self.rng.randrange(7)
        subject, person = self.subject()
        base, _, _ = self.pick(V_VERBS)
        intransitive, _, ing = self.pick(V_INTRANSITIVE)
        do = "does" if person == 3 else "do"
        if kind == 0:
            return f"Did {subject} {base} {self.object_phrase()}{self.tail()}?"
        if kind == 1:
            wh = self.pick(("Why", "Where", "When", "How often", "How"))
            return f"{wh} {do} {subject} {intransitive}{self.tail()}?"
        if kind == 2:
            return f"{self.pick(V_MODALS).capitalize()} {subject} {base} {self.object_phrase()}?"
        if kind == 3:
            be = "is" if person == 3 else "am" if person == 1 else "are"
            return f"{be.capitalize()} {subject} {ing}{self.tail()}?"
        if kind == 4:
            return f"Who {self.verb(3, True)} {self.object_phrase()}{self.tail()}?"
        if kind == 5:
            return f"What did {subject} {base} {self.place()}?"
        thing, thing_person = self.noun_phrase(people=False)
        be = "is" if thing_person == 3 else "are"
        return f"{be.capitalize()} {thing} {self.pick(V_ADJECTIVES)} or {self.pick(V_ADJECTIVES)}?"

    def command(self) -> str:
        base, _, _ = self.pick(V_VERBS)
        start = self.pick(("", "", "Please ", "Don't ", "Never ", "Always ", "Now ", "Quickly, "))
        body = f"{base} {self.object_phrase()}{self.tail()}"
        if self.chance(0.2):
            body += f" {self.pick(V_SUBORDINATORS)} {self.clause()}"
        end = "!" if self.chance(0.3) else "."
        return start + body + end

    def exclamation(self) -> str:
        singular, _ = self.pick(V_THINGS + V_PEOPLE)
        adjective = self.pick(V_ADJECTIVES)
        if self.chance(0.5):
            article = "an" if _starts_with_vowel_sound(adjective) else "a"
            return f"What {article} {adjective} {singular} that was!"
        return f"How {adjective} the {singular} looks {self.pick(V_ADVERBS)}!"

    def sentence(self) -> str:
        r = self.rng.random()
        if r < 0.2:
            text = self.clause() + "."
        elif r < 0.32:
            text = f"{self.pick(V_SUBORDINATORS)} {self.clause()}, {self.clause()}."
        elif r < 0.4:
            text = f"{self.clause()} {self.pick(V_SUBORDINATORS)} {self.clause()}."
        elif r < 0.48:
            text = f"{self.pick(V_OPENERS)}, {self.clause()}."
        elif r < 0.56:
            joiner = self.pick((", but ", ", and ", ", so ", ", or ", "; ", ", and then ",
                                " and "))
            text = f"{self.clause()}{joiner}{self.clause()}."
        elif r < 0.64:
            subject, person = self.subject()
            past = self.pick(V_VERBS)[1]
            text = f"{subject} {past} {self.listing()}{self.tail()}."
        elif r < 0.72:
            noun, person = self.noun_phrase()
            rel = "who" if self.chance(0.5) else "that"
            be = "was" if person == 3 else "were"
            text = (f"{noun} {rel} {self.subject()[0]} {self.pick(V_VERBS)[1]} {be} "
                    f"{self.pick(V_ADJECTIVES)}.")
        elif r < 0.84:
            text = self.question()
        elif r < 0.94:
            text = self.command()
        else:
            text = self.exclamation()
        return text[0].upper() + text[1:]


def varied_sentences(count: int = 5000, seed: int = 0) -> list[str]:
    """``count`` distinct sentences of the varied set (5-20 words; no digits, names from
    ``V_NAMES`` only); ``varied_sentences(n)`` is a prefix of ``(n+1)``. Never a held-out
    sentence (``HELDOUT_EVERYDAY``, ``heldout_sentences()``)."""
    if count < 0:
        raise ValueError(f"cannot generate {count} varied sentences: the count must be >= 0")
    rng = random.Random(seed + 2_000_029)  # a stream of its own
    grammar = _VariedGrammar(rng)
    refused = set(HELDOUT_EVERYDAY) | set(heldout_sentences())
    sentences: list[str] = []
    seen: set[str] = set()
    while len(sentences) < count:
        sentence = grammar.sentence()
        if sentence in seen or sentence in refused or not (
                MIN_WORDS <= count_words(sentence) <= MAX_WORDS):
            continue
        seen.add(sentence)
        sentences.append(sentence)
    return sentences


LEXICAL_WORD_LETTERS = (3, 10)  # the length range of the lexical set's replacement words
# CMUdict is mostly names; a word with two of these forms in it too is nearly always a common
# English word ("pass": passes, passed, passing), a surname hardly ever.
LEXICAL_FORMS = ("s", "es", "d", "ed", "ing", "er", "ers", "ly", "ness")
_CAPITALIZED = re.compile(r"[A-Z][a-z']*")
_WORD_ANY_CASE = re.compile(_WORD.pattern, re.IGNORECASE)


def _syllables(pronunciation: Sequence[str]) -> int:
    """Syllables of an ARPAbet pronunciation: its vowels, the phones with a stress digit."""
    return sum(split_stress(phone)[1] is not None for phone in pronunciation)


def lexical_word_pool() -> dict[int, list[str]]:
    """CMUdict words by syllable count (1, 2, 3): letters only, of one pronunciation, with two
    of ``LEXICAL_FORMS`` in CMUdict as well, not a function word, and no word of a held-out
    sentence (``HARVARD_SENTENCES``, ``HELDOUT_EVERYDAY``, ``heldout_sentences()``), so that no
    benchmark hears a word the prosody models learnt from this set."""
    return {syllables: list(words) for syllables, words in _lexical_word_pool().items()}


@functools.lru_cache(maxsize=1)
def _lexical_word_pool() -> dict[int, tuple[str, ...]]:
    """``lexical_word_pool``, built once: it reads all of CMUdict (seconds)."""
    held_out = {word for text in (*HARVARD_SENTENCES, *HELDOUT_EVERYDAY, *heldout_sentences())
                for word in words_of(text)}
    low, high = LEXICAL_WORD_LETTERS
    pool: dict[int, list[str]] = {1: [], 2: [], 3: []}
    lexicon = cmudict()
    for word, pronunciations in sorted(lexicon.items()):
        if (len(pronunciations) != 1 or not low <= len(word) <= high or not word.isalpha()
                or not word.isascii() or word in FUNCTION_WORDS or word in held_out
                or sum(word + ending in lexicon for ending in LEXICAL_FORMS) < 2):
            continue
        syllables = _syllables(pronunciations[0])
        if syllables in pool:
            pool[syllables].append(word)
    return {syllables: tuple(words) for syllables, words in pool.items()}


def lexical_sentences(count: int = 5000, seed: int = 0) -> list[str]:
    """``count`` sentences of the lexical set: the varied set's sentences (same phrasing,
    punctuation and function words) with every other word swapped for a random CMUdict word of
    as many syllables (``lexical_word_pool``; names and words of 4+ syllables stay). They make
    no sense; what they teach the duration and F0 models is the teacher's timing of words
    never seen before, so that it is learnt as a rule of the phones, stress and position and
    not word by word. ``lexical_sentences(n)`` is a prefix of ``(n+1)``."""
    if count < 0:
        raise ValueError(f"cannot generate {count} lexical sentences: the count must be >= 0")
    rng = random.Random(seed + 3_000_017)  # a stream of its own
    pool = _lexical_word_pool()
    lexicon = cmudict()
    names = {name.lower() for name in V_NAMES}

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        pronunciation = lexicon.get(lower)
        if lower in FUNCTION_WORDS or lower in names or pronunciation is None:
            return word
        syllables = _syllables(pronunciation[0])
        if syllables not in pool:
            return word
        new = rng.choice(pool[syllables])
        return new.capitalize() if _CAPITALIZED.fullmatch(word) else new

    return [_WORD_ANY_CASE.sub(swap, sentence) for sentence in varied_sentences(count, seed)]


# The short set: the rhythm of plain English. Its content words are the lexical pool's, drawn
# with these syllable shares; over 81% of the Harvard sentences' content words and 60% of the
# everyday ones' have one syllable, against 20% of the varied set's and 42% of the templates'.
SHORT_SYLLABLE_SHARES = {1: 0.75, 2: 0.21, 3: 0.04}
SHORT_WORDS = (4, 12)  # words per sentence (Harvard: 6-10)
# Function words by flite's gpos class (frontend.intonation), the skeleton the content words
# hang on; "the" and "a" weigh as much as they do in running text.
_S_DETERMINERS = ("the",) * 6 + ("a",) * 3 + ("this", "each", "some", "no", "every", "that",
                                              "these", "those", "all", "both", "any", "many")
_S_POSSESSIVES = ("her", "his", "their", "its", "our", "my", "your")
_S_PRONOUNS = ("he", "she", "it", "they", "we", "you", "i")
_S_NUMBERS = ("two", "three", "four", "five", "six", "ten", "twelve", "fifty")
_S_PREPOSITIONS = ("of",) * 3 + ("in",) * 2 + ("on", "at", "to", "from", "with", "by", "for",
                                               "through", "near", "up", "down", "into",
                                               "over", "under", "off", "past")
_S_AUXILIARIES = ("is", "was", "are", "were", "has", "had", "can", "will", "could", "should",
                  "must", "might", "would", "did", "does")
_S_CONJUNCTIONS = ("and",) * 3 + ("but", "or", "so")
_S_QUESTION_WORDS = ("what", "where", "how", "when", "who", "why")


class _ShortGrammar:
    """Noun and verb phrases of function words and pool words; every method returns words."""

    def __init__(self, rng: random.Random, pool: dict[int, tuple[str, ...]]) -> None:
        self.rng = rng
        self.pool = pool
        self.syllables = tuple(SHORT_SYLLABLE_SHARES)
        self.weights = tuple(SHORT_SYLLABLE_SHARES.values())

    def content(self) -> list[str]:
        syllables = self.rng.choices(self.syllables, self.weights)[0]
        return [self.rng.choice(self.pool[syllables])]

    def noun_phrase(self) -> list[str]:
        rng = self.rng
        kind = rng.random()
        if kind < 0.12:
            return [rng.choice(_S_PRONOUNS)]
        head = self.content() + (self.content() if rng.random() < 0.3 else [])
        if kind < 0.30:
            return head  # a bare plural or mass noun: "rice", "smoky fires"
        if kind < 0.38:
            return [rng.choice(_S_NUMBERS)] + head
        if kind < 0.50:
            return [rng.choice(_S_POSSESSIVES)] + head
        return [rng.choice(_S_DETERMINERS)] + head

    def prepositional_phrase(self) -> list[str]:
        return [self.rng.choice(_S_PREPOSITIONS)] + self.noun_phrase()

    def verb_phrase(self) -> list[str]:
        rng = self.rng
        verb = ([rng.choice(_S_AUXILIARIES)] if rng.random() < 0.35 else []) + self.content()
        kind = rng.random()
        if kind < 0.15:
            tail: list[str] = []
        elif kind < 0.45:
            tail = self.noun_phrase()
        elif kind < 0.65:
            tail = self.prepositional_phrase()
        elif kind < 0.85:
            tail = self.noun_phrase() + self.prepositional_phrase()
        else:
            tail = ["to"] + self.content() + self.noun_phrase()
        if rng.random() < 0.15:
            tail = tail + self.content()  # an adverb: "... and follow through"
        return verb + tail

    def clause(self) -> list[str]:
        return self.noun_phrase() + self.verb_phrase()

    def sentence(self) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.55:
            words, end = self.clause(), "."
        elif kind < 0.70:
            words, end = self.verb_phrase(), "."  # a command
        elif kind < 0.80:
            words = ([rng.choice(_S_AUXILIARIES)] + self.noun_phrase() + self.content()
                     + (self.prepositional_phrase() if rng.random() < 0.5 else []))
            end = "?"
        elif kind < 0.87:
            words = ([rng.choice(_S_QUESTION_WORDS), rng.choice(_S_AUXILIARIES)]
                     + self.noun_phrase() + self.content())
            end = "?"
        elif kind < 0.97:
            words = self.clause() + [","] + [rng.choice(_S_CONJUNCTIONS)] + self.clause()
            end = "."
        else:
            words, end = self.noun_phrase() + self.content(), "!"
        return _short_text(words, end)


def _short_text(words: list[str], end: str) -> str:
    """Words to a written sentence: "a" before a vowel sound is "an", a capital, the mark."""
    lexicon = cmudict()
    out: list[str] = []
    for k, word in enumerate(words):
        following = words[k + 1] if k + 1 < len(words) else ""
        if word == "a" and following in lexicon and lexicon[following][0][0][:2] in VOWELS:
            word = "an"
        out.append("I" if word == "i" else word)
    text = " ".join(out).replace(" ,", ",")
    return text[0].upper() + text[1:] + end


def short_sentences(count: int = 5000, seed: int = 0) -> list[str]:
    """``count`` distinct sentences of the short set: 4-12 words, three content words in four
    of one syllable (``SHORT_SYLLABLE_SHARES``, words of ``lexical_word_pool``), statements,
    commands, questions and two-clause sentences. Like the lexical set they make no sense; they
    give the duration and F0 models the rhythm of plain text, which the varied set's long words
    lack. Never a held-out sentence; ``short_sentences(n)`` is a prefix of ``(n+1)``."""
    if count < 0:
        raise ValueError(f"cannot generate {count} short sentences: the count must be >= 0")
    rng = random.Random(seed + 4_000_037)  # a stream of its own
    grammar = _ShortGrammar(rng, _lexical_word_pool())
    refused = set(HARVARD_SENTENCES) | set(HELDOUT_EVERYDAY) | set(heldout_sentences())
    low, high = SHORT_WORDS
    sentences: list[str] = []
    seen: set[str] = set()
    while len(sentences) < count:
        sentence = grammar.sentence()
        if sentence in seen or sentence in refused or not low <= count_words(sentence) <= high:
            continue
        seen.add(sentence)
        sentences.append(sentence)
    return sentences


def varied_vocabulary() -> frozenset[str]:
    """Every word a varied sentence can contain."""
    texts: list[str] = list(V_NAMES) + list(V_PLACE_NOUNS) + list(V_PREPOSITIONS)
    texts += list(V_ADJECTIVES) + list(V_ADVERBS) + list(V_OPENERS) + list(V_SUBORDINATORS)
    texts += list(V_DEGREE) + list(V_MODALS) + list(V_PARTICLE_ENDINGS) + list(V_SPELLED_COUNTS)
    texts += list(V_DETERMINERS) + list(V_PLURAL_DETERMINERS)
    texts += [" ".join(p[:2]) for p in V_PRONOUNS]
    texts += [" ".join(pair) for pair in V_THINGS + V_PEOPLE]
    for base, past, ing in V_VERBS + V_INTRANSITIVE:
        texts.append(f"{base} {past} {ing} {_third_person(base)}")
    texts.append("a an it not is am are was were seemed looked became did do does who what "
                 "why where when how often or and but so then that don't please now always looks "
                 "never")
    return frozenset(word for text in texts for word in words_of(text))


def _pronounce(word: str, lexicon: dict[str, list[list[str]]]) -> list[str] | None:
    """CMUdict's first pronunciation; possessives ("Edith's") from the base word's."""
    if word in lexicon:
        return lexicon[word][0]
    if word.endswith("'s") and word[:-2] in lexicon:
        base = lexicon[word[:-2]][0]
        last = split_stress(base[-1])[0]
        if last in ("S", "Z", "SH", "ZH", "CH", "JH"):
            return base + ["IH0", "Z"]
        return base + (["S"] if last in ("P", "T", "K", "F", "TH") else ["Z"])
    return None


def phoneme_stats(
    sentences: Iterable[str],
) -> tuple[collections.Counter[str], dict[str, set[str]], dict[str, set[str]], set[str]]:
    """Per ARPAbet phoneme: occurrences, distinct words, distinct (left, right) neighbour pairs.

    Words are looked up in CMUdict (first pronunciation); words it lacks (and digits, which a
    frontend expands later) are returned as the last element instead of being guessed.
    """
    lexicon = cmudict()
    counts: collections.Counter[str] = collections.Counter()
    words_with: dict[str, set[str]] = collections.defaultdict(set)
    contexts: dict[str, set[str]] = collections.defaultdict(set)
    unknown: set[str] = set()
    for sentence in sentences:
        phones = ["sil"]
        for word in words_of(sentence):
            pronunciation = _pronounce(word, lexicon)
            if pronunciation is None:
                unknown.add(word)
                continue
            for phone in pronunciation:
                base = split_stress(phone)[0]
                phones.append(base)
                counts[base] += 1
                words_with[base].add(word)
        phones.append("sil")
        for left, phone, right in zip(phones, phones[1:], phones[2:]):
            contexts[phone].add(f"{left}-{right}")
    return counts, words_with, contexts, unknown


def _coverage_table(sentences: Sequence[str]) -> str:
    counts, words_with, contexts, unknown = phoneme_stats(sentences)
    lines = [f"{len(sentences)} sentences, {sum(counts.values())} phonemes (CMUdict words only)",
             f"{'phone':>5} {'count':>7} {'words':>6} {'contexts':>8}"]
    for phone in sorted(ARPABET, key=lambda p: counts[p]):
        lines.append(
            f"{phone:>5} {counts[phone]:>7} {len(words_with[phone]):>6} {len(contexts[phone]):>8}"
        )
    if unknown:
        lines.append(f"not in CMUdict (not counted): {' '.join(sorted(unknown))}")
    return "\n".join(lines)


def content_syllable_shares(sentences: Iterable[str]) -> dict[int, float]:
    """The share of content words (not ``FUNCTION_WORDS``, in CMUdict) with 1, 2, 3 and 4+
    syllables: the rhythm a set gives the prosody models (Harvard: 81% of one syllable)."""
    lexicon = cmudict()
    counts = collections.Counter(
        min(_syllables(lexicon[word][0]), 4) for sentence in sentences
        for word in words_of(sentence) if word not in FUNCTION_WORDS and word in lexicon)
    total = sum(counts.values()) or 1
    return {k: counts[k] / total for k in (1, 2, 3, 4)}


# --set NAME -> the sentences (count, seed); the fixed lists take their first ``count``.
_CLI_SETS: dict[str, Callable[[int, int], list[str]]] = {
    "templates": training_sentences,
    "heldout": heldout_sentences,
    "everyday": lambda count, seed: list(HELDOUT_EVERYDAY[:count]),
    "harvard": lambda count, seed: list(HARVARD_SENTENCES[:count]),
    "varied": varied_sentences,
    "lexical": lexical_sentences,
    "short": short_sentences,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recipes.demo.sentences", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--set", choices=tuple(_CLI_SETS), default="templates",
                        help="which sentences (default: the training templates)")
    parser.add_argument(
        "--count", type=int, default=None,
        help=f"number of sentences (default 1000, or {DEFAULT_HELDOUT_COUNT} for heldout; "
             "all of a fixed list)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stats", action="store_true",
                        help="print phoneme coverage and the content words' syllables instead")
    args = parser.parse_args(argv)
    default = DEFAULT_HELDOUT_COUNT if args.set == "heldout" else 1000
    if args.set in ("everyday", "harvard"):
        default = len(HELDOUT_EVERYDAY if args.set == "everyday" else HARVARD_SENTENCES)
    try:
        sentences = _CLI_SETS[args.set](args.count or default, args.seed)
    except ValueError as exc:
        print(f"sentences: error: {exc}", file=sys.stderr)
        return 2
    if args.stats:
        lengths = [count_words(s) for s in sentences]
        shares = content_syllable_shares(sentences)
        print(_coverage_table(sentences))
        print(f"words per sentence: min {min(lengths)}, mean {sum(lengths) / len(lengths):.1f}, "
              f"max {max(lengths)}")
        print("content words of 1 / 2 / 3 / 4+ syllables: "
              + " / ".join(f"{100 * shares[k]:.0f}%" for k in (1, 2, 3, 4)))
    else:
        print("\n".join(sentences))
    return 0


if __name__ == "__main__":
    sys.exit(main())
