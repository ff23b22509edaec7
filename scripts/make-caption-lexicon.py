#!/usr/bin/env python3
"""Writes Sources/Net2Net/Experiments/CaptionLexicon.swift: for each of the ten
fashion classes, the WordNet 3.0 noun synsets that name it (the class's own
synsets and the hyponyms that look like it at 28×28), each with its lemmas
and its gloss. The text → image caption generator draws names and glosses
from it.

The synsets are chosen by hand below (offsets into data.noun); lemmas that
mean something else in everyday English are dropped. Needs Debian's
`wordnet-base` (the WordNet 3.0 database files):

    apt-get install wordnet-base
    python3 scripts/make-caption-lexicon.py [/usr/share/wordnet]
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "Sources", "Net2Net", "Experiments", "CaptionLexicon.swift")

# Class label → WordNet noun synset offsets.
SYNSETS = {
    0: ["03595614",  # jersey, T-shirt, tee shirt
        "04390577",  # tank top
        "04223299",  # singlet, vest, undershirt
        "04453666"], # top (a garment from the shoulders to the waist or hips)
    1: ["04489008",  # trouser, pant
        "02825442",  # bell-bottoms
        "03019434",  # chino
        "03107488",  # cords, corduroys
        "03594734",  # jean, blue jean, denim
        "03688605",  # long trousers
        "04233715",  # slacks
        "04337287",  # stretch pants
        "04370288",  # sweatpants
        "04480303"], # trews
    2: ["04021028",  # pullover, slipover
        "04370048",  # sweater, jumper
        "04370456",  # sweatshirt
        "04502197"], # turtleneck, polo-neck
    3: ["03236735",  # dress, frock
        "03062015",  # cocktail dress
        "03013438",  # chemise
        "03450230",  # gown
        "02781121",  # ball gown
        "02898585",  # wedding dress
        "03201638",  # evening gown
        "04197878",  # shirtdress
        "04355511",  # sundress
        "03788914",  # muumuu
        "03205574",  # dirndl
        "02936570"], # caftan
    4: ["03057021",  # coat
        "03456665",  # greatcoat, overcoat, topcoat
        "03254046",  # duffel coat
        "03404251",  # fur coat
        "04049405",  # raincoat
        "04479046",  # trench coat
        "03702719",  # mackintosh
        "03589791",  # jacket
        "03891051",  # parka, windbreaker, anorak
        "02937010",  # cagoule
        "04230387",  # ski jacket
        "02867966",  # bomber jacket
        "03902756",  # peacoat
        "03696909",  # lumber jacket
        "02850358",  # blazer
        "04187970"], # sheepskin coat
    5: ["04133789",  # sandal
        "03297103",  # espadrille
        "03364008",  # flip-flop
        "03547530",  # huarache
        "04027706",  # zori
        "04239786"], # slingback
    6: ["04197391",  # shirt
        "03238879",  # dress shirt
        "04602956",  # work-shirt
        "02854926",  # blouse
        "04198562",  # shirtwaist
        "03762238"], # middy blouse
    7: ["03472535",  # gym shoe, sneaker, tennis shoe
        "03967270",  # plimsoll
        "04120489",  # running shoe
        "04546081"], # walking shoe
    8: ["02774152",  # bag, handbag, pocketbook, purse
        "03055418",  # clutch bag
        "03301940",  # evening bag
        "04207343",  # shoulder bag
        "02970408",  # tote bag
        "04137217",  # satchel
        "02769748",  # backpack, rucksack
        "02870676",  # book bag
        "04146343",  # schoolbag
        "04204081",  # shopping bag
        "03253886",  # duffel bag
        "04026417",  # purse
        "03235796"], # drawstring bag
    9: ["02872752",  # boot
        "02925666",  # half boot, combat boot, desert boot
        "03027625",  # chukka boot
        "03090710",  # congress boot
        "03411079",  # gaiter
        "03600475"], # jodhpur boot
}

# Lemmas dropped: everyday English means something else by them.
DROPPED = {"vest", "thong", "pusher", "sling", "sheath", "shift", "formal", "turtle", "mac", "mack",
           "white", "flannel", "gabardine", "tweed", "sack", "Levi's", "levis", "denim", "top_side",
           "jersey", "boot", "gaiter", "jodhpur", "carryall", "holdall", "chemise", "grip"}
# Plural forms: these name one garment as a plural noun.
PLURAL = {"trouser": "trousers", "pant": "pants", "jean": "jeans", "blue_jean": "blue jeans", "chino": "chinos",
          "long_trousers": "long trousers", "long_pants": "long pants"}
KEEP_SINGULAR = {"boot"}


def read_synsets(directory):
    synsets = {}
    with open(os.path.join(directory, "data.noun"), encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):
                continue
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            count = int(fields[3], 16)
            lemmas = [fields[4 + 2 * i] for i in range(count)]
            synsets[fields[0]] = (lemmas, gloss.strip())
    return synsets


def clean_gloss(gloss):
    gloss = gloss.split(";")[0]
    gloss = re.sub(r"\([^)]*\)", "", gloss)
    gloss = gloss.replace("`", "")
    return re.sub(r"\s+", " ", gloss).strip()


def name(lemma):
    if lemma in PLURAL:
        return PLURAL[lemma]
    return re.sub(r"\(.*\)", "", lemma).replace("_", " ").lower()


def swift_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet"
    synsets = read_synsets(directory)
    lines = []
    for label in range(10):
        entries = []
        for offset in SYNSETS[label]:
            lemmas, gloss = synsets[offset]
            names = []
            for lemma in lemmas:
                if lemma in DROPPED and not (label == 9 and lemma in KEEP_SINGULAR):
                    continue
                n = name(lemma)
                if n not in names:
                    names.append(n)
            if names:
                entries.append((offset, names, clean_gloss(gloss)))
        body = ",\n".join(
            "            Entry(synset: %s, names: [%s],\n                  gloss: %s)"
            % (swift_string(offset), ", ".join(swift_string(n) for n in names), swift_string(g))
            for offset, names, g in entries)
        lines.append("        // %d\n        [\n%s,\n        ]" % (label, body))
    with open(OUTPUT, "w") as f:
        f.write('''// Generated by scripts/make-caption-lexicon.py from WordNet 3.0; do not edit.
//
// WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
// THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY
// MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. The name of
// Princeton University or Princeton may not be used in advertising or
// publicity pertaining to distribution of the software and/or database.

/// Names and definitions of the ten fashion classes from WordNet 3.0 noun
/// synsets: the class's own synsets and hyponyms that look like it.
enum CaptionLexicon {
    struct Entry: Sendable {
        /// The synset's offset in WordNet 3.0's data.noun.
        var synset: String
        /// Its lemmas, as English noun phrases (plural where the garment is named in the plural).
        var names: [String]
        /// Its gloss, up to the first ";", without parentheses.
        var gloss: String
    }

    /// By fashion label 0–9.
    static let fashion: [[Entry]] = [
''' + ",\n".join(lines) + ''',
    ]
}
''')
    print("wrote", OUTPUT)


if __name__ == "__main__":
    main()
