"""Hand-written cue lexicon: words that signal urgency, sentiment and intent in both languages.

The seed data cannot hold every way a customer says "the ceiling is leaking", so a few concepts
the taxonomy defines (safety risk, an ongoing wait, a deadline, a threat to leave or go public,
a blocked payment, an essential service down) are also matched by pattern on normalised text.
Each concept becomes one model feature; the model still learns how much each one counts.
Patterns are written against normalise() output: lower case, folded, numbers as "num".
"""
import re

_CONCEPT_PATTERNS = {
    "urgent_word": [
        r"acil\w*", r"hemen", r"derhal", r"ivedi\w*", r"cabuk", r"bir an once", r"urgent\w*",
        r"asap", r"emergency", r"immediately", r"right now", r"right away", r"hurry", r"imdat",
        r"help", r"help me", r"yardim edin", r"yardim lazim", r"sos"],
    "wait_ongoing": [
        r"\w*dakikadir", r"\w*saattir", r"saatlerdir", r"dakika oldu", r"saat oldu",
        r"num dakika", r"num minutes", r"num hours", r"half an hour", r"yarim saat\w*",
        r"waiting", r"waited", r"wait", r"bekli\w*", r"beklet\w*", r"still", r"hala", r"henuz",
        r"nobody came", r"no one came", r"kimse gelmedi", r"kimse yok", r"nobody", r"no one",
        r"gelmedi", r"forever", r"ages", r"an hour", r"bir saat\w*", r"nothing", r"hicbir sey"],
    "deadline": [
        r"have to leave", r"need to leave", r"leave soon", r"must leave", r"have to go",
        r"need to go", r"gitmem\w* lazim", r"gitmem\w* gerek\w*", r"cikmam\w* lazim",
        r"cikmam\w* gerek\w*", r"yetis\w*", r"catch", r"flight", r"ucag\w*", r"ucus\w*",
        r"train", r"tren\w*", r"ferry", r"vapur\w*", r"feribot\w*", r"boarding", r"airport",
        r"havaliman\w*", r"meeting", r"toplanti\w*", r"interview", r"gorusme\w*", r"today",
        r"bugun", r"tonight", r"bu aksam", r"bu gece", r"tomorrow", r"yarin", r"deadline",
        r"son gun", r"due today", r"in num minutes", r"num dakikaya", r"num dakika sonra",
        r"starts", r"basliyor", r"kalkiyor", r"leaves", r"closes", r"kapaniyor", r"bitiyor",
        r"ends"],
    "safety": [
        r"smoke", r"duman\w*", r"fire", r"yangin\w*", r"burning", r"yanik koku\w*", r"gas",
        r"gaz\w*", r"leak\w*", r"sizinti\w*", r"sizdir\w*", r"akiyor", r"damliyor",
        r"dripping", r"flood\w*", r"su bas\w*", r"spark\w*", r"kivilcim\w*", r"shock",
        r"carpti", r"stuck", r"mahsur\w*", r"trapped", r"sikis\w*", r"bleed\w*", r"blood",
        r"kaniyor", r"kanama\w*", r"kan lekesi", r"injur\w*", r"hurt", r"yarala\w*", r"fell",
        r"fallen", r"dustu", r"faint\w*", r"bayildi", r"fenalas\w*", r"collaps\w*",
        r"yigildi", r"ambulan\w*", r"doctor", r"doktor\w*",
        r"allerg\w*", r"alerj\w*", r"poison\w*", r"zehirlen\w*",
        r"vomit\w*", r"kustu", r"kusuyor", r"kusmus", r"kusmuk", r"kusma\w*", r"sick",
        r"chok\w*", r"bogul\w*", r"nefes\w*", r"breath\w*", r"cockroach\w*", r"roach\w*",
        r"hamam bocegi", r"bocek\w*", r"insect\w*", r"bugs?", r"bedbugs?", r"tahtakurusu",
        r"mouse", r"mice", r"rats?", r"fare", r"sican", r"pest\w*", r"droppings",
        r"needle", r"siringa", r"broken glass", r"glass", r"cam\w* kir\w*", r"kirik cam",
        r"cam parcasi", r"raw", r"cig", r"police",
        r"polis", r"security", r"guvenlik", r"fight", r"kavga", r"stolen", r"calindi",
        r"kayboldu", r"lost", r"suspicious", r"supheli", r"sahipsiz", r"panic\w*",
        r"swelling", r"sisiyor", r"fever", r"ates\w*", r"chest pain\w*",
        r"gogsu agri\w*",],
    "essential_service": [
        r"hot water", r"sicak su", r"soguk su", r"no water", r"su yok", r"hic su",
        r"power", r"electric\w*", r"elektri\w*", r"dark", r"karanlik", r"heating",
        r"isitma", r"kalorifer", r"petek\w*", r"air con\w*", r"ac", r"klima\w*", r"degrees",
        r"derece", r"key card", r"door card", r"oda kart\w*", r"kartim calismiyor",
        r"locked out", r"kilitli kal\w*", r"kilitlendi", r"cannot get in", r"giremiyor\w*",
        r"door", r"kapi\w*", r"overflow\w*", r"tasiyor", r"tasti", r"freezing", r"buz gibi"],
    "blocked_payment": [
        r"declin\w*", r"reddedil\w*", r"rejected", r"cannot pay", r"odeyemiyor\w*",
        r"odeme yapamiyor\w*", r"odeme\w* gecmiyor", r"gecmiyor", r"not going through",
        r"going thru", r"failed", r"failing", r"basarisiz", r"hata\w*", r"error\w*",
        r"blocked", r"bloke\w*", r"block it", r"checkout", r"cannot complete",
        r"tamamlayamiyor\w*", r"cannot log in", r"giris yapamiyor\w*", r"swallowed",
        r"yuttu", r"ate my card", r"took my card", r"kartimi aldi",],
    "threat": [
        r"cancel\w*", r"iptal\w*", r"leaving", r"walk out", r"going elsewhere",
        r"somewhere else", r"baska yer\w*",
        r"gidiyoruz", r"kalkiyoruz", r"kalkacagiz", r"kalkip gid\w*", r"never again",
        r"never come back", r"never coming back", r"never staying",
        r"bir daha asla", r"bir daha gel\w*", r"reviews?", r"yorum\w*",
        r"google", r"tripadvisor", r"instagram", r"twitter", r"facebook", r"social media",
        r"sosyal medya", r"paylas\w*", r"sikayetvar\w*", r"report\w*", r"reporting",
        r"lawyer", r"avukat\w*", r"court", r"mahkeme\w*", r"consumer", r"tuketici\w*",
        r"chargeback", r"closing my account", r"hesabimi kapat\w*", r"num star",
        r"num yildiz", r"one star", r"everyone should know", r"herkes bilsin",
        r"everywhere", r"her yere", r"ministry", r"bakanlig\w*", r"dispute", r"itiraz\w*",
        r"file a complaint", r"sikayet edecegim", r"sikayet ediyorum", r"my bank",
        r"bankami", r"bankaya gid\w*"],
    "negation": [
        r"not", r"no", r"never", r"nothing", r"nobody", r"none", r"cannot", r"without",
        r"degil\w*", r"yok", r"hic", r"asla", r"olmadan",
        r"\w+(?:miyor|muyor|madi|medi|madik|medik|mamis|memis|maz|mez|mayan|meyen)\w*"],
    "negative_word": [
        r"kotu\w*", r"berbat\w*", r"rezalet\w*", r"rezil\w*", r"igrenc\w*", r"korkunc\w*",
        r"les", r"pis\w*", r"kirli\w*", r"kaba\w*", r"ters\w*", r"saygisiz\w*", r"terrible",
        r"awful", r"horrible", r"worst", r"disgust\w*", r"gross", r"rude\w*",
        r"dirty", r"filthy", r"broken", r"bozuk\w*", r"bozul\w*", r"ariza\w*",
        r"unacceptable", r"kabul edilemez", r"ridiculous", r"sacma\w*", r"disappoint\w*", r"hayal kirikligi\w*", r"angry", r"sinir\w*", r"annoying", r"yazik",
        r"ayip", r"shame\w*", r"rip off", r"kazik", r"pahali", r"expensive", r"overpriced",
        r"cold", r"soguk\w*", r"stale", r"bayat", r"wrong", r"yanlis", r"eksik", r"missing",
        r"late", r"slow", r"yavas", r"useless", r"emoneg", r"wtf", r"unbelievable", r"ugh",
        r"smh", r"yuck", r"iyy", r"problem\w*", r"sorun\w*",
        r"complain\w*", r"sikayet\w*", r"fed up", r"yeter", r"bikt\w*", r"mediocre", r"meh",
        r"bland", r"tasteless", r"rubbish", r"poor\w*", r"shabby", r"dated", r"cramped",
        r"noisy", r"unprofessional", r"careless", r"incompetent", r"waste", r"nightmare",
        r"joke", r"shocking", r"appalling", r"dreadful", r"pathetic", r"frustrat\w*",
        r"unhappy", r"upset", r"not happy", r"not good", r"at best", r"lukewarm", r"vasat",
        r"idare eder", r"felaket\w*", r"pes", r"uzucu", r"begenmedi\w*", r"tatsiz",
        r"ozensiz", r"beceriksiz", r"umursamaz\w*", r"ilgisiz\w*", r"gurultu\w*"],
    "positive_word": [
        r"tesekkur\w*", r"sagol\w*", r"eyvallah", r"thank\w*", r"cheers", r"harika\w*",
        r"super", r"mukemmel\w*", r"muhtesem\w*", r"great", r"amazing", r"excellent",
        r"perfect\w*", r"love\w*", r"lovely", r"delicious", r"lezzetli\w*", r"nefis\w*",
        r"guzel\w*", r"wonderful", r"awesome", r"fantastic", r"brilliant", r"best", r"en iyi",
        r"memnun\w*", r"helpful", r"yardimsever", r"yardimci oldu", r"ilgili\w*", r"kind",
        r"nazik\w*", r"friendly", r"guler yuzlu", r"samimi\w*", r"tertemiz", r"spotless",
        r"bayildim", r"bayildik", r"tebrik\w*", r"eline saglik", r"elinize saglik",
        r"efsane\w*", r"emopos", r"well done", r"top notch", r"highly recommend",
        r"tavsiye ederim", r"happy", r"mutlu\w*", r"glad", r"enjoy\w*", r"keyif\w*",
        r"comfortable", r"comfy", r"rahatti", r"impress\w*", r"gorgeous", r"beautiful",
        r"stunning", r"superb", r"outstanding", r"exceptional", r"fabulous", r"terrific",
        r"marvellous", r"splendid", r"delight\w*", r"pleasant", r"nice", r"nicely",
        r"spot on", r"smooth", r"seamless", r"effortless", r"efficient", r"professional",
        r"attentive", r"thoughtful", r"generous", r"cosy", r"cozy", r"charming", r"tasty",
        r"yummy", r"treat", r"gem", r"lifesaver", r"legend", r"worth", r"appreciat\w*",
        r"grateful", r"thankful", r"pleasure", r"bliss", r"magical", r"wow", r"fab",
        r"muazzam", r"sahane", r"enfes", r"leziz", r"harikulade", r"begendi\w*", r"hos",
        r"sicacik", r"ferah", r"kibar\w*", r"profesyonel\w*", r"basarili", r"helal olsun",
        r"minnettar\w*", r"on numara", r"kusursuz", r"sorunsuz\w*", r"mis gibi",
        r"keyifli\w*", r"iyiydi", r"guzeldi", r"bravo", r"masallah", r"cok iyi\w*"],
    "question": [
        r"qmark", r"mi", r"mu", r"misiniz", r"musunuz", r"miyim", r"miyiz", r"midir",
        r"mudur", r"ne zaman", r"nerede", r"nereye", r"nasil", r"kac\w*", r"hangi\w*",
        r"ne kadar", r"acaba", r"what", r"whats", r"when", r"where", r"how", r"which", r"who",
        r"is there", r"are there", r"do you", r"does", r"do i", r"is it", r"is this",
        r"are you", r"can i", r"can we", r"could i", r"may i", r"var mi", r"yok mu",
        r"mumkun mu",],
    "request": [
        r"lutfen", r"rica\w*", r"please", r"could you", r"can you", r"would you",
        r"will you", r"i d like", r"i would like", r"we d like", r"we would like",
        r"could we", r"can we get", r"can i get", r"could we get", r"could someone",
        r"can someone", r"need", r"lazim", r"istiyorum", r"istiyoruz", r"istesek",
        r"\w+(?:ebilir|abilir) mi\w*", r"\w+(?:ir|ur|er|ar) misiniz", r"\w+(?:ir|ur|er|ar) musunuz",
        r"getir\w*", r"gonder\w*", r"bring", r"send", r"pass", r"ilet\w*", r"extra", r"ekstra"],
    "suggestion": [
        r"should", r"could add", r"would be nice", r"would be great", r"would be good",
        r"would help", r"would love",
        r"it d be", r"maybe", r"perhaps", r"suggest\w*",
        r"why not", r"consider", r"add", r"adding", r"keske", r"olsa\w*",
        r"olsun", r"olmali\w*", r"oneri\w*", r"eklese\w*", r"ekleyin", r"ekleseniz",
        r"ekleyebilir\w*", r"koysaniz", r"koyun", r"yapsaniz", r"iyi olur", r"guzel olur",
        r"harika olur", r"super olur", r"iyi olabilir",],
}

CONCEPTS = tuple(_CONCEPT_PATTERNS)
_COMPILED = {
    name: re.compile(r"\b(?:" + "|".join(patterns) + r")\b")
    for name, patterns in _CONCEPT_PATTERNS.items()
}


def find_cues(normalised):
    """Return {concept: [matched phrases]} for the concepts found in a normalised text."""
    found = {}
    for name, pattern in _COMPILED.items():
        matches = pattern.findall(normalised)
        if matches:
            found[name] = matches
    return found
