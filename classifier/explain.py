"""The "why" behind each label: the few terms of the message that pushed hardest towards it."""
import numpy as np

WHY_TERMS = 3
WHY_CANDIDATES = 20  # strongest features looked at when naming the terms behind a label
# Function words carry weight in the model (word pairs, char n-grams) but tell staff nothing.
FUNCTION_WORDS = frozenset("""
a an the is are was were be been am i me my we our us you your it its this that these those
to of in on at for with and or but so by from as he she they them his her their do does did
have has had will would can could there here what not no yes just very too all any some
ve ile de da bu su o bir icin ama cok mi mu ben biz sen siz bana bize benim bizim ne gibi
daha en her hic ki ya ise olan oldu var yok""".split())


def why_terms(features, decided, rows, columns, values, evidence):
    """Return {head name: readable terms} for the heads' chosen labels.

    decided holds (head, chosen index, ...) per head; rows are the weight rows of the message's
    columns; evidence is (normalised words, lexicon cues, touchpoint kind, surface map).
    """
    if not len(columns):
        return {}
    words, cues, kind, surface = evidence
    # Evidence for the chosen label relative to the head's average label: a feature that
    # raises every label equally explains nothing. One column per head, all heads at once.
    chosen_columns = [entry[0].start + entry[1] for entry in decided]
    means = np.column_stack([rows[:, entry[0].start:entry[0].stop].mean(axis=1)
                             for entry in decided])
    push = values[:, None] * (rows[:, chosen_columns] - means)
    strongest = np.argsort(-push, axis=0, kind="stable")[:WHY_CANDIDATES]
    units_of, result = {}, {}
    for h, entry in enumerate(decided):
        totals = {}
        for i in strongest[:, h].tolist():
            amount = float(push[i, h])
            if amount <= 0:
                break
            if i not in units_of:
                units_of[i] = features.units(int(columns[i]), words, cues, kind)
            for unit in units_of[i]:
                totals[unit] = totals.get(unit, 0.0) + amount / len(units_of[i])
        result[entry[0].name] = top_terms(totals, surface)
    return result


def top_terms(totals, surface):
    """Return up to WHY_TERMS readable terms, strongest first, none repeating another's words."""
    terms, seen = [], set()
    for unit, _ in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        content = {token for token in unit.split() if token not in FUNCTION_WORDS}
        if content and not content <= seen:
            seen |= content
            terms.append(_readable(unit, surface))
            if len(terms) == WHY_TERMS:
                break
    return tuple(terms)


def context_supports(term, label):
    """Say whether a context why-term (picked:x, survey:±p) argues for the chosen label."""
    if term.startswith("picked:"):
        return term == f"picked:{label}"
    if term.startswith("survey:"):
        sign = term[len("survey:")]
        return (label == "negative" and sign == "-") or (label == "positive" and sign == "+")
    return False


def _readable(unit, surface):
    """Map a normalised unit (word, n-gram, phrase, @touchpoint) back to what was typed."""
    if unit.startswith("@"):
        return f"touchpoint:{unit[1:]}"
    return " ".join(surface.get(token, token) for token in unit.split())
