namespace ContactGrains.Bot.Signals;

/// <summary>
/// The words behind each signal, per language, written on normalized text (lower case, no accents,
/// punctuation and apostrophes as spaces: "don't" is "don t", "n'ai" is "ai"). In a phrase, "word*"
/// matches any word starting with "word", "_" any one word and "__" up to three words.
/// </summary>
internal static class SignalLexicon
{
    internal sealed record Language(
        string[] RequestFrames,
        string[] HumanNouns,
        string[] HumanPhrases,
        string[] NotHumanSenses,
        string[] Negations,
        string[] NegationExceptions,
        string[] ClauseBreaks,
        string[] FillerWords,
        string[] PrefersHumans,
        string[] Insults,
        string[] ThreatsToLeave,
        string[] StillNotWorking,
        string[] Exasperation,
        string[] DidNotHelp,
        string[] SmallTalk,
        string[] HighStakes,
        string[] AsksIfBot,
        IReadOnlyDictionary<string, string[]> SensitiveTopics);

    public static readonly Language English = new(
        RequestFrames:
        [
            "speak*", "talk*", "chat*", "contact*", "connect*", "reach", "transfer*", "put me", "get me", "get a", "get an", "want*",
            "need*", "give me", "let me", "like to", "can i", "could i", "may i", "is there", "are there", "any", "where", "request*",
            "ask for", "have a", "looking for", "prefer*", "call*", "escalat*", "bring", "send me", "pass me", "hand me",
        ],
        HumanNouns:
        [
            "human*", "agent*", "representative*", "rep", "reps", "operator*", "adviser*", "advisor*", "advisers", "staff", "someone",
            "somebody", "manager", "supervisor", "employee", "consultant", "person", "people", "real person", "live person",
        ],
        HumanPhrases:
        [
            "real person", "real people", "actual person", "actual human", "live person", "live agent", "live chat agent", "human being",
            "human agent", "real human", "a human", "an agent", "an adviser", "an advisor", "a representative", "an operator",
            "customer service agent", "customer service rep*", "someone real", "somebody real", "someone from your team",
            "someone who can help", "speak to someone", "talk to someone", "speak with someone", "talk with someone",
            "speak to somebody", "talk to somebody", "call me back", "put me through", "transfer me", "escalate this",
            "not a bot", "not a robot", "not a machine", "no more bot", "stop the bot", "anyone real", "anybody real",
            "anyone there", "anybody there", "real human", "someone human",
        ],
        NotHumanSenses:
        [
            "user agent*", "delivery agent*", "travel agent*", "estate agent*", "insurance agent*", "shipping agent*", "courier agent*",
            "secret agent*", "collection agent*", "human resources", "human error", "human rights", "in person", "per person",
            "person at", "person who", "person that", "person signed", "another person", "same person", "the person",
            "this person", "that person", "what time __ someone", "what time __ somebody", "what time __ agent*",
            "what time __ adviser*", "what hours __ someone", "when __ someone by phone", "someone by phone", "agent left", "agent said", "agent told", "agent dropped",
        ],
        Negations: ["don t", "do not", "dont", "doesn t", "didn t", "not", "no", "never", "without", "won t", "wont", "no need", "nor"],
        NegationExceptions: ["why _ not", "why don t", "why can t", "why cant", "can t i", "cant i", "why won t", "why isn t", "why no"],
        ClauseBreaks: ["but", "just", "only", "instead", "rather", "however"],
        FillerWords: ["please", "pls", "plz", "now", "asap", "thanks", "thank", "you", "a", "an", "the", "need", "want", "i", "ok", "hi", "hello", "immediately", "right", "away", "real", "live"],
        PrefersHumans:
        [
            "prefer* __ human*", "prefer* __ real person", "prefer* __ real people", "prefer* __ person", "prefer* __ humans",
            "always __ human*", "always __ real person", "rather __ human*", "rather __ real person", "hate bot*", "hate chatbot*",
            "hate robot*", "don t like bot*", "don t like chatbot*", "don t like robot*", "don t want __ bot*", "don t want __ robot*",
            "don t want __ machine*", "no bots", "no chatbot*", "not a bot", "not a robot", "not a machine", "bots are useless",
            "not a fan of chatbot*", "not a fan of bot*", "not a fan of robot*", "rather deal with", "rather talk to a",
            "rather speak to a", "rather speak with a", "rather chat with a",
        ],
        Insults:
        [
            "stupid", "useless", "idiot*", "joke", "pathetic", "incompetent", "rubbish", "crap*", "damn", "wtf", "fuck*",
            "f ck*", "shit*", "bullshit", "terrible", "worst", "awful", "disgrace*", "shambles", "clown*", "moron*", "dumb", "garbage",
            "trash", "scam", "thieves", "liars", "lying",
        ],
        ThreatsToLeave:
        [
            "go elsewhere", "tak* my business", "business elsewhere", "shop elsewhere", "switch to", "never order*", "never buy*", "never shop*", "last time i", "leaving you",
            "close my account and", "competitor*", "bad review", "review on", "trustpilot", "social media", "report you",
            "tell everyone", "i m done", "i am done", "cancel everything", "never again", "star review*", "1 star", "one star",
            "reviews everywhere",
        ],
        StillNotWorking:
        [
            "still not", "still nothing", "still no", "still waiting", "still haven t", "still hasn t", "still doesn t", "still isn t",
            "still can t", "still broken", "still the same", "how many times", "third time", "3rd time", "fourth time", "again and again",
            "once again", "i already", "already told", "already asked", "already explained", "keep asking", "keep telling",
            "for weeks", "for days", "for a month", "for ages", "tried _ times", "tried again", "tried everything",
        ],
        Exasperation:
        [
            "unacceptable", "fed up", "sick of", "sick and tired", "frustrat*", "angry", "furious", "annoyed", "outrage*", "livid",
            "seriously", "are you kidding", "you re kidding", "unbelievable", "ridiculous", "disgusted", "had enough", "fuming", "appalling",
            "nonsense", "lost patience", "had it", "come on", "not happy", "unhappy", "not impressed", "not good enough",
        ],
        DidNotHelp:
        [
            "didn t help", "doesn t help", "did not help", "does not help", "not help*", "no help", "not helpful", "unhelpful",
            "not what i asked", "not my question", "not answering", "doesn t answer", "didn t answer", "does not answer",
            "not what i meant", "wrong answer", "that s not it", "not the answer", "you don t understand", "you didn t understand",
            "not understand*", "same answer", "irrelevant", "that s not what", "not relevant", "doesn t solve", "didn t solve",
        ],
        SmallTalk:
        [
            "hi", "hello", "hey", "hiya", "good", "morning", "afternoon", "evening", "thanks", "thank", "you", "thx", "ty", "cheers",
            "ok", "okay", "k", "great", "cool", "perfect", "nice", "yes", "yeah", "yep", "no", "nope", "bye", "goodbye", "see", "ya",
            "there", "lovely", "brilliant", "awesome", "sure", "fine", "alright", "much", "so", "very", "that", "s", "it", "all",
            "got", "understood", "appreciate", "have", "a", "day", "lot", "lots", "great", "excellent", "wonderful", "helpful", "was",
        ],
        AsksIfBot: ["are you a bot", "are you a robot", "are you human", "are you a real", "am i talking to a bot", "am i talking to a robot", "is this a bot", "is this a robot", "are you ai", "are you an ai"],
        HighStakes:
        [
            "payment*", "card", "cards", "bank*", "money", "account", "security", "secure", "password", "charge*", "debit*",
            "transaction*", "refund*", "login", "log in", "closing", "close my account", "close down",
        ],
        SensitiveTopics: new Dictionary<string, string[]>
        {
            ["fraud"] =
            [
                "fraud*", "scam*", "stolen card", "card was stolen", "card got stolen", "stole my", "didn t make this",
                "didn t make these", "didn t make that", "did not make this", "didn t authori*", "did not authori*", "unauthori*",
                "don t recogni*", "do not recogni*", "didn t recogni*", "unrecogni*", "not recogni*", "not me", "wasn t me",
                "someone used my", "somebody used my", "someone has used", "hacked", "hacker*", "identity theft", "phishing",
                "never bought", "never ordered this", "charges i didn t", "payment i didn t", "purchase i didn t",
            ],
            ["dispute"] = ["dispute*", "chargeback*", "charge back", "contest*", "challenge the charge", "raise a claim with my bank", "claim with my bank"],
            ["bereavement"] =
            [
                "passed away", "passed on", "has died", "have died", "who died", "died last", "died recently", "mother died", "father died",
                "husband died", "wife died", "mum died", "dad died", "son died", "daughter died", "partner died", "death", "deceased", "funeral", "widow*", "bereave*", "late husband", "late wife",
                "late mother", "late father", "late mum", "late dad", "lost my husband", "lost my wife", "lost my mother",
                "lost my father", "lost my mum", "lost my dad", "lost my son", "lost my daughter", "probate", "executor",
            ],
            ["hardship"] =
            [
                "can t afford", "cannot afford", "can t pay", "cannot pay", "unable to pay", "lost my job", "lost my income",
                "unemployed", "redundan*", "laid off", "debt*", "struggling financially", "financial difficult*", "hardship",
                "no money", "bailiff*", "cancer", "hospital*", "terminally ill", "disabled", "disabilit*", "carer",
                "mental health", "depress*", "suicid*", "kill myself", "domestic abuse", "vulnerable", "benefits stopped",
                "partially sighted", "blind", "visually impaired", "deaf", "hard of hearing", "can t read", "cannot read",
                "dementia", "elderly", "cold call*", "confused",
            ],
            ["legal"] =
            [
                "lawyer will", "lawyers will", "my lawyer about", "contact* my lawyer", "call* my lawyer", "speak* to my lawyer",
                "talk* to my lawyer", "through my lawyer", "hear from my lawyer", "lawyer involved", "involve my lawyer", "lawyer on",
                "solicitor*", "attorney*", "legal action", "legal team", "sue you", "sue your", "to sue", "will sue", "suing", "court", "small claims",
                "ombudsman", "trading standards", "take you to", "lawsuit", "legal proceedings",
            ],
            ["complaint"] = ["complain*", "formal complaint", "official complaint", "file a complaint", "make a complaint", "raise a complaint", "complaints department"],
            ["data-protection"] =
            [
                "gdpr", "data protection", "delete my data", "delete all my data", "erase my data", "personal data",
                "subject access", "access request", "right to be forgotten", "data you hold", "information you hold",
                "privacy request", "dsar",
            ],
        });

    public static readonly Language French = new(
        RequestFrames:
        [
            "parler", "discuter", "contacter", "joindre", "avoir", "passer", "passez", "mettre", "mettez", "veux", "voudrais", "voudrai",
            "souhaite", "souhaiterais", "aimerais", "besoin", "jveux", "jvoudrais", "veu", "puis je", "pourrais je", "est ce possible", "possible", "y a t il",
            "il y a", "transfer*", "demande", "rappel*", "appel*", "prefere*", "cherche", "trouver", "etre mis", "mis en relation",
            "relation", "donnez", "donner",
        ],
        HumanNouns:
        [
            "humain*", "conseill*", "agent*", "operat*", "quelqu un", "responsable", "employe*", "interlocut*", "vendeur*",
            "collaborat*", "technicien*", "une personne", "une vraie personne", "la personne", "des gens",
        ],
        HumanPhrases:
        [
            "une vraie personne", "une personne reelle", "personne reelle", "vraie personne", "un etre humain", "etre humain",
            "un humain", "une humaine", "un conseiller", "une conseillere", "un operateur", "une operatrice", "un agent",
            "un interlocuteur", "quelqu un de reel", "quelqu un de votre equipe", "parler a quelqu un", "parler avec quelqu un",
            "parler a une personne", "mettre en relation", "mettez moi en relation", "passez moi", "rappelez moi", "me rappeler",
            "pas un robot", "pas une machine", "pas un bot", "parler a personne", "parler avec personne",
        ],
        NotHumanSenses:
        [
            "agent de livraison", "agent immobilier", "agent d assurance", "agent de voyage", "agent de securite", "ressources humaines",
            "erreur humaine", "droits de l homme", "en personne", "par personne", "la personne qui", "une personne a signe",
            "cette personne", "autre personne", "meme personne", "quelle heure __ quelqu un", "quelle heure __ conseill*",
            "quelle heure __ joindre", "horaires __ quelqu un", "quelqu un par telephone", "agent a", "agent m a", "agent est",
        ],
        Negations: ["ne", "pas", "jamais", "sans", "plus", "inutile", "aucun", "aucune", "ni", "non", "pas besoin", "pas la peine"],
        NegationExceptions: ["pourquoi __ pas", "pourquoi je ne", "pourquoi on ne", "est ce que je ne peux pas", "je ne peux pas parler", "on ne peut pas parler", "impossible de parler", "impossible d avoir", "impossible de joindre", "pas moyen"],
        ClauseBreaks: ["mais", "juste", "seulement", "simplement", "plutot", "par contre", "cependant"],
        FillerWords: ["svp", "stp", "s il", "vous", "te", "plait", "plaît", "maintenant", "merci", "un", "une", "le", "la", "je", "veux", "bonjour", "vite", "tout", "de", "suite", "urgent", "vrai", "vraie"],
        PrefersHumans:
        [
            "prefere* __ humain*", "prefere* __ vraie personne", "prefere* __ vraies personnes", "prefere* __ une personne",
            "prefere* __ conseiller*", "toujours __ humain*", "toujours __ conseiller*", "plutot __ humain*", "plutot __ conseiller*",
            "deteste __ robot*", "deteste __ bot*", "deteste __ chatbot*", "aime pas __ robot*", "aime pas __ bot*",
            "aime pas __ chatbot*", "veux pas __ robot*", "veux pas __ machine*", "veux pas __ bot*", "pas de robot*", "pas de bot*",
            "pas un robot", "pas une machine", "pas un bot", "marre __ robot*", "marre __ bot*",
        ],
        Insults:
        [
            "nul", "nulle", "nuls", "c est inutile", "vous etes inutile*", "bot inutile", "robot inutile", "completement inutile",
            "totalement inutile", "debile*", "ridicule*", "honteu*", "scandale*", "scandaleu*", "merde*", "putain", "bordel",
            "incompetent*", "lamentable*", "pitoyable*", "n importe quoi", "foutre", "fout", "con", "cons", "connard*", "abruti*",
            "idiot*", "voleur*", "escroc*", "menteur*", "minable*", "catastroph*", "pourri", "pourrie", "pourris", "honte",
        ],
        ThreatsToLeave:
        [
            "aller voir ailleurs", "voir ailleurs", "chez un concurrent", "concurren*", "plus jamais", "dernier achat",
            "derniere fois que", "je vais partir chez", "je pars chez", "je quitte votre", "je vous quitte", "resilier tout", "mauvais avis", "avis negatif",
            "laisser un avis", "reseaux sociaux", "trustpilot", "faire de la pub", "prevenir tout le monde", "1 etoile",
            "une etoile", "etoile partout",
        ],
        StillNotWorking:
        [
            "toujours pas", "toujours rien", "toujours aucun", "toujours bloque*", "toujours coince*", "toujours au depot", "toujours en attente", "toujours le meme", "toujours la meme",
            "encore une fois", "encore et encore", "combien de fois", "troisieme fois", "3e fois", "quatrieme fois", "deja dit",
            "deja demande", "deja explique", "j ai deja", "depuis des semaines", "depuis des jours", "depuis un mois",
            "ca fait des jours", "ca fait des semaines", "ca fait un mois", "ca fait _ jours", "ca fait _ semaines",
            "quand meme", "reessaye*", "essaye _ fois", "essaye plusieurs fois",
        ],
        Exasperation:
        [
            "inacceptable", "inadmissible", "ras le bol", "marre", "en ai marre", "furieu*", "enerve*", "agace*", "exaspere*",
            "en colere", "insupportable", "c est abuse", "abuse", "serieusement", "vous plaisantez", "c est une blague",
            "incroyable", "hallucinant", "degoute*", "scandalise*", "ca suffit", "j en peux plus", "a bout",
            "commence a bien faire", "pas content*", "pas satisfait*", "mecontent*",
        ],
        DidNotHelp:
        [
            "aide pas", "m aide pas", "aide en rien", "ne sert a rien", "sert a rien", "pas ma question", "pas ce que j ai demande",
            "pas ce que je demande", "repond pas", "repondez pas", "reponds pas", "ne comprenez pas", "ne comprends pas",
            "pas compris", "a cote", "hors sujet", "pas la reponse", "mauvaise reponse", "meme reponse", "ne resout pas",
            "resout rien", "pas utile", "inutile comme reponse",
        ],
        SmallTalk:
        [
            "bonjour", "bonsoir", "salut", "coucou", "hello", "merci", "beaucoup", "bien", "ok", "okay", "d", "accord", "parfait",
            "super", "genial", "oui", "non", "au", "revoir", "bonne", "journee", "soiree", "a", "plus", "tard", "top", "cool",
            "c", "est", "tres", "nickel", "entendu", "compris", "ca", "marche", "vous", "aussi", "madame", "monsieur", "tout",
            "le", "monde", "infiniment", "excellent", "bravo",
        ],
        AsksIfBot: ["t es un robot", "t es un bot", "es un robot", "es un bot", "es tu un bot", "es tu un robot", "etes vous un robot", "vous etes un robot", "tu es un robot", "c est un robot", "je parle a un robot", "je parle a un bot", "est ce un robot", "es tu humain", "etes vous humain", "vous etes humain"],
        HighStakes:
        [
            "paiement*", "carte", "cartes", "banque*", "bancaire*", "argent", "compte", "securite", "mot de passe",
            "debit*", "prelevement*", "virement*", "transaction*", "rembours*", "connexion", "fermer mon compte", "cloture*",
        ],
        SensitiveTopics: new Dictionary<string, string[]>
        {
            ["fraud"] =
            [
                "fraud*", "arnaque*", "escroquer*", "carte volee", "carte a ete volee", "vol de ma carte", "on m a vole", "vole ma",
                "ne reconnais pas", "reconnais pas", "pas reconnu", "pas moi", "ce n est pas moi", "c est pas moi", "pirate*",
                "usurpation", "non autorise*", "pas autorise", "jamais commande", "jamais achete", "quelqu un a utilise",
                "utilise ma carte", "hameconnage", "phishing", "debit inconnu", "prelevement inconnu", "paiement inconnu",
            ],
            ["dispute"] = ["litige*", "contest*", "opposition", "rejeter le paiement", "reclamation aupres de ma banque", "chargeback"],
            ["bereavement"] =
            [
                "decede*", "deces", "mari est mort", "pere est mort", "mere est morte", "femme est morte", "fils est mort", "fille est morte",
                "conjoint est mort", "epoux est mort", "epouse est morte", "frere est mort", "soeur est morte", "obseques", "enterrement", "veuf", "veuve", "defunt*",
                "feu mon", "feue ma", "perdu mon mari", "perdu ma femme", "perdu ma mere", "perdu mon pere", "perdu mon fils",
                "perdu ma fille", "succession", "notaire", "nous a quittes",
            ],
            ["hardship"] =
            [
                "pas les moyens", "plus les moyens", "peux pas payer", "peux plus payer", "pouvez pas payer", "incapable de payer",
                "perdu mon emploi", "perdu mon travail", "licencie*", "chomage", "au chomage", "dette*", "surendette*",
                "difficultes financieres", "difficulte financiere", "fins de mois difficiles", "sans argent", "plus d argent", "malade",
                "maladie", "cancer", "hopital", "hospitalise*", "handicap*", "invalidite", "depression", "suicid*", "en finir",
                "violence*", "vulnerable", "precarite", "rsa", "malvoyant*", "aveugle", "sourd*", "personne agee", "agee",
                "demarche*", "alzheimer", "ne comprend pas", "ne comprend rien", "tutelle", "curatelle",
            ],
            ["legal"] =
            [
                "mon avocat va", "contacter mon avocat", "contacte mon avocat", "voir avec mon avocat", "par mon avocat",
                "appeler mon avocat", "mes avocats", "mon avocat", "notre avocat", "saisir la justice", "saisir le tribunal",
                "saisir le mediateur", "tribunal", "tribunaux", "justice", "poursui*", "porter plainte", "plainte contre", "mise en demeure",
                "action en justice", "huissier*", "mediateur", "dgccrf", "ufc que choisir", "association de consommateurs", "proces",
            ],
            ["complaint"] = ["reclamation*", "plainte", "porter reclamation", "faire une reclamation", "deposer une reclamation", "service reclamation*", "me plaindre"],
            ["data-protection"] =
            [
                "rgpd", "gdpr", "donnees personnelles", "mes donnees", "supprimer mes donnees", "effacer mes donnees",
                "droit a l oubli", "droit d acces", "cnil", "protection des donnees", "informations personnelles",
                "donnees que vous", "vie privee",
            ],
        });
}
