"""Turkish-aware text normalisation, light language detection, and the analyzers the model uses.

normalise() turns what a customer typed into the form the model reads: Turkish lower-casing
(İ→i, I→ı), diacritics folded (so "oda çok kirli" == "oda cok kirli"), letters repeated for
emphasis squeezed ("cooook" → "cok"), numbers, emoji and "?" / "!" mapped to word tokens, and a
few informal spellings spelled out. Every step works token by token, which lets the model map
the terms behind a decision back to the words the customer wrote.
"""
import functools
import re
import unicodedata

MAX_CHARS = 2000  # customers say what matters first; a bounded input keeps predict fast

NUMBER, QUESTION, EXCLAIM = "num", "qmark", "excl"
EMOJI_POSITIVE, EMOJI_NEGATIVE, EMOJI_OTHER = "emopos", "emoneg", "emoji"
SPECIAL_TOKENS = frozenset({NUMBER, QUESTION, EXCLAIM, EMOJI_POSITIVE, EMOJI_NEGATIVE,
                            EMOJI_OTHER})

_POSITIVE_EMOJI = set("😀😃😄😁😊🙂😍🥰😘😻👍👌👏🙏❤💙💚💛💜🧡🤩✨💯🎉🌟⭐😋🤗🥳💐🔥")
_NEGATIVE_EMOJI = set("😡😠🤬👎😤😞😟😢😭😩😫🤮🤢💩😒🙄😕☹🙁😣😖😓😰😱😨💔🥵🥶🤯😬")
_EMOTICONS = [
    (re.compile(r"(?:[:;=]-?[)\]D]+|<3|\^_?\^)"), f" {EMOJI_POSITIVE} "),
    (re.compile(r"(?:[:;=]-?[(\[/\\|]+|:'\()"), f" {EMOJI_NEGATIVE} "),
]
# Control, format (zero-width, bidi), surrogate and private-use characters carry no meaning
# and can hide words from the model; they become spaces.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff"
    "\ud800-\udfff\ue000-\uf8ff]")
_SYMBOLS = re.compile("[\u2190-\U0010ffff]")  # arrows onwards: symbols, emoji, other scripts
_TERMINAL_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # e.g. colour codes pasted along
_TURKISH_FOLD = str.maketrans("çğıöşüâîûÇĞÖŞÜ", "cgiosuaiucgosu")
_NUMBERS = re.compile(r"\d+(?:[.,:/]\d+)*")
_APOSTROPHES = re.compile(r"[’'`´]")
_QUESTION_MARKS = re.compile(r"[?¿؟]+")
_EXCLAMATIONS = re.compile(r"[!¡]+")
_NON_WORD = re.compile(r"[\W_]+")
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")
# Spoken Turkish drops the final r of the present tense: "calismiyo", "bekliyoz", "geliyolar".
_SPOKEN_PRESENT = re.compile(r"(?<=[iu])yo(z|m|sun|sunuz|lar)?\b")
_SPOKEN_ENDINGS = {"": "yor", "z": "yoruz", "m": "yorum", "sun": "yorsun",
                   "sunuz": "yorsunuz", "lar": "yorlar"}
INFORMAL = {
    "slm": "selam", "mrb": "merhaba", "mrhb": "merhaba", "mrhaba": "merhaba",
    "tsk": "tesekkurler", "tskler": "tesekkurler", "tesekkurlar": "tesekkurler",
    "sagol": "sagolun", "bi": "bir", "bisey": "birsey",
    "biseyler": "birseyler", "niye": "neden", "nolur": "ne olur", "napcam": "ne yapacagim",
    "napalim": "ne yapalim", "dk": "dakika", "dkk": "dakika", "dakka": "dakika",
    "dakkadir": "dakikadir", "dkdir": "dakikadir", "lutfn": "lutfen",
    "ltfn": "lutfen", "acill": "acil", "yardm": "yardim", "hersey": "her sey",
    "pls": "please", "plz": "please", "plss": "please", "plzz": "please", "pleas": "please",
    "thx": "thanks", "thnx": "thanks", "thanx": "thanks", "ty": "thanks", "tnx": "thanks",
    "u": "you", "ur": "your", "youre": "you are", "im": "i am", "ive": "i have",
    "cant": "cannot", "wont": "will not", "dont": "do not", "doesnt": "does not",
    "didnt": "did not", "isnt": "is not", "wasnt": "was not", "arent": "are not",
    "havent": "have not", "hasnt": "has not", "wouldnt": "would not", "couldnt": "could not",
    "min": "minutes", "mins": "minutes", "minute": "minutes", "hr": "hours", "hrs": "hours",
    "hour": "hours", "rm": "room", "msg": "message", "pic": "picture", "b4": "before",
    "gonna": "going to", "wanna": "want to", "gotta": "have to", "coz": "because",
    "cuz": "because", "bc": "because", "tmrw": "tomorrow", "ppl": "people",
}
_WIFI = re.compile(r"\bwi[\s-]?fi\b")
_TURKISH_LETTERS = re.compile("[çğışöüÇĞİŞÖÜ]")
_TURKISH_ONLY_LETTERS = re.compile("[ğıışİŞĞ]")
TURKISH_WORDS = frozenset("""
ve bir bu su cok icin ama de da mi mu misiniz musunuz miyim var yok ne neden nasil lutfen
tesekkurler tesekkur hala daha gibi kadar hic hemen acil simdi oda odada odamiz masa masaya
siparis siparisim bekliyoruz bekliyorum gelmedi degil olmadi ben biz sen siz benim bizim
burada orada yarin bugun saat dakika dakikadir tane ile ya yani ki iyi kotu guzel merhaba
selam abi hocam abla rica olur olmaz mumkun neredeyse artik hep her sey birsey lazim gerek
istiyorum istiyoruz icin diye bize bana size sizin onun cunku ise eger hangi kac nerede
zaman sonra once yine bile yoksa veya hem fakat ancak tamam evet hayir efendim rezalet
berbat kirli temiz sicak soguk calismiyor bozuk yemek garson personel fiyat ucret iade
kargo urun beden numara bedava indirim fatura hesap kart odeme uygulama site sifre""".split())
ENGLISH_WORDS = frozenset("""
the a an is are was were be been and or to of in on at for with my our your we i you it
this that there not no please can could would have has had do does did what why how when
where still just room order thanks thank hi hello me us they from but so very too any
will am if its here get got nobody someone anyone waiting since who which than
need want all out up about again one more some really never ever last next""".split())
OTHER_LANGUAGE_WORDS = frozenset("""
der die das und ist nicht ich wir sehr mit auf ein eine zimmer kein keine bitte danke
haben wird sind nach noch immer les et est pas je nous tres avec une des du chambre merci
pour sur dans mon nest cest vous votre los las y muy con por una que habitacion gracias
pero del esta estamos usted nuestra di che non sono molto camera grazie della questo
nao muito com uma quarto obrigado para voce het een niet kamer heel wij bedankt""".split())
_TURKISH_SUFFIX = re.compile(
    r"\w{2,}(?:iyor|iyoruz|iyorum|miyor|madi|medi|mis|dik|duk|lar|ler|lari|leri|siniz|sunuz"
    r"|imiz|dir|dur|tir|dan|den|tan|ten|nda|nde|yla|yle|sini|sunu|cagim|ecegim|acak|ecek)$")
_EDGE_PUNCTUATION = re.compile(r"^[^\w]+|[^\w]+$")


def strip_invisible(text):
    """Return `text` as a str, cut to MAX_CHARS, with control and format characters as spaces."""
    if text is None:
        return ""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = str(text)
    return _INVISIBLE.sub(" ", _TERMINAL_ESCAPES.sub(" ", text[:MAX_CHARS]))


def turkish_lower(text):
    """Lower-case `text` with Turkish rules: İ→i and I→ı, then the usual lower-casing."""
    return text.replace("İ", "i").replace("I", "ı").lower()


def fold(text):
    """Fold Turkish and other diacritics to plain Latin letters (ç→c, ğ→g, ı→i, ö→o, ş→s, ü→u)."""
    text = text.translate(_TURKISH_FOLD)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def squeeze(text):
    """Squeeze a letter repeated three or more times to one ("cooook" → "cok")."""
    return _REPEATED_LETTER.sub(r"\1", text)


def _emoji_token(match):
    ch = match.group()
    if ch in _POSITIVE_EMOJI:
        return f" {EMOJI_POSITIVE} "
    if ch in _NEGATIVE_EMOJI:
        return f" {EMOJI_NEGATIVE} "
    return f" {EMOJI_OTHER} " if unicodedata.category(ch) == "So" else ch


def _emoji_tokens(text):
    """Replace emoji and emoticons with sentiment word tokens."""
    for pattern, token in _EMOTICONS:
        text = pattern.sub(token, text)
    return _SYMBOLS.sub(_emoji_token, text)


def _normalise_clean(text):
    """Normalise text that has already been through strip_invisible()."""
    text = _emoji_tokens(text)
    text = fold(turkish_lower(text))
    text = _WIFI.sub("wifi", _APOSTROPHES.sub("", text))
    text = _NUMBERS.sub(f" {NUMBER} ", text)
    text = _QUESTION_MARKS.sub(f" {QUESTION} ", text)
    text = _EXCLAMATIONS.sub(f" {EXCLAIM} ", text)
    text = squeeze(_NON_WORD.sub(" ", text))
    text = _SPOKEN_PRESENT.sub(lambda m: _SPOKEN_ENDINGS[m.group(1) or ""], text)
    return " ".join(INFORMAL.get(token, token) for token in text.split())


def normalise(text):
    """Return the normalised form of `text`: space-separated lower-case folded tokens."""
    return _normalise_clean(strip_invisible(text))


@functools.lru_cache(maxsize=8192)
def _normalise_word(word):
    """Return the normalised tokens of one typed word (cached: customers reuse their words)."""
    return tuple(_normalise_clean(word).split())


def surface_map(text):
    """Map each normalised token of `text` to the first word the customer typed for it."""
    mapping = {QUESTION: "?", EXCLAIM: "!"}
    for word in strip_invisible(text).split():
        plain = _EDGE_PUNCTUATION.sub("", word) or word
        for token in _normalise_word(word):
            mapping.setdefault(token, plain)
    return mapping


def content_words(normalised):
    """Return the tokens of a normalised text that are words: two letters or more, not numbers,
    emoji or marks (a lone letter is usually a stray key or an escape-sequence leftover)."""
    return [t for t in normalised.split()
            if len(t) > 1 and t not in SPECIAL_TOKENS and not t.isdigit()]


def detect_language(text, normalised=None):
    """Return "tr", "en", "other" (another language) or "unknown" (no words to tell by).

    Pass `normalised` (normalise(text)) when it is at hand, to skip normalising twice.
    """
    raw = strip_invisible(text)
    letters = [ch for ch in raw if ch.isalpha()]
    if not letters:
        return "unknown"
    latin = sum(1 for ch in fold(turkish_lower("".join(letters))) if "a" <= ch <= "z")
    if latin < len(letters) / 2:
        return "other"
    words = content_words(normalise(raw) if normalised is None else normalised)
    turkish = sum(1.0 for w in words if w in TURKISH_WORDS)
    turkish += sum(0.5 for w in words if w not in TURKISH_WORDS and _TURKISH_SUFFIX.match(w))
    turkish += 2.0 if _TURKISH_ONLY_LETTERS.search(raw) else 0.0
    turkish += 0.5 * len(_TURKISH_LETTERS.findall(raw)) ** 0.5
    english = sum(1.0 for w in words if w in ENGLISH_WORDS)
    other = sum(1.0 for w in words if w in OTHER_LANGUAGE_WORDS)
    if other >= 2 and other > turkish and other > english:
        return "other"
    if turkish == english:
        return "unknown" if turkish == 0 else "tr"
    return "tr" if turkish > english else "en"


def word_ngrams(normalised):
    """Return the word 1- and 2-grams of a normalised text (the word TF-IDF analyzer)."""
    tokens = normalised.split()
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def char_ngrams_of_word(word, low=2, high=5):
    """Return the char_wb n-grams of one word, padded with spaces as scikit-learn pads them."""
    padded = f" {word} "
    size = len(padded)
    grams = []
    for n in range(low, high + 1):
        if size <= n:  # a short word counts once, as the whole padded word
            grams.append(padded)
            break
        grams.extend(padded[i:i + n] for i in range(size - n + 1))
    return grams


def char_ngrams(normalised):
    """Return the char_wb 2–5-grams of a normalised text (the char TF-IDF analyzer)."""
    grams = []
    for word in normalised.split():
        grams.extend(char_ngrams_of_word(word))
    return grams
