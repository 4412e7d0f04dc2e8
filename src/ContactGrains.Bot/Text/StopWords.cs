namespace ContactGrains.Bot.Text;

/// <summary>
/// Small stop-word lists, written in normalized form (lower-case, no diacritics, no apostrophes). Besides grammar
/// words they hold the politeness and request phrasing every customer message carries ("hello", "please",
/// "I would like", "pourriez-vous"), which says nothing about what the customer wants.
/// </summary>
internal static class StopWords
{
    internal static readonly string[] English =
    [
        // Articles, conjunctions, prepositions.
        "a", "an", "the", "and", "or", "but", "if", "then", "so", "of", "to", "in", "on", "at", "by", "for", "with",
        "from", "about", "into", "onto", "over", "up", "out", "as", "than", "via", "per",
        // Pronouns and determiners.
        "i", "me", "my", "mine", "myself", "you", "your", "yours", "we", "us", "our", "ours", "he", "him", "his", "she",
        "her", "it", "its", "they", "them", "their", "this", "that", "these", "those", "there", "here", "some", "any",
        "all", "both", "each", "other", "such", "own", "same", "something", "anything", "someone", "anyone", "one",
        // Question words; "when", "where" and "much" are kept: they separate dates, places and prices.
        "what", "which", "who", "whom", "whose", "why", "how", "whats", "whos", "hows",
        // Auxiliaries and modals, with the stubs contractions leave ("don't" is "don" + "t").
        "is", "am", "are", "was", "be", "been", "being", "do", "does", "did", "doing", "have", "has", "had",
        "having", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "cannot", "cant", "dont",
        "don", "doesn", "didn", "isn", "aren", "wasn", "weren", "haven", "hasn", "hadn", "won", "wouldn", "couldn",
        "shouldn", "ll", "ve", "re", "havent", "hasnt", "hadnt", "didnt", "doesnt", "isnt", "arent", "wasnt", "werent",
        "wont", "wouldnt", "couldnt", "shouldnt", "im", "ive", "id", "youre", "theyre", "thats", "theres",
        // Negation and filler adverbs.
        "not", "no", "just", "also", "very", "too", "still", "yet", "already", "again", "ever", "now", "really", "even",
        "many", "more", "most", "only", "well", "soon",
        // Politeness and request phrasing.
        "please", "pls", "plz", "thanks", "thank", "thx", "hello", "hi", "hey", "dear", "ok", "okay", "yes", "sorry",
        "want", "wanted", "wanna", "need", "needed", "like", "know", "tell", "let", "get", "got", "help", "able",
        "trying", "try", "tried", "way", "possible", "guys", "sir", "madam",
    ];

    internal static readonly string[] French =
    [
        // Articles, conjunctions, prepositions.
        "a", "au", "aux", "de", "des", "du", "la", "le", "les", "un", "une", "et", "ou", "mais", "donc", "car", "ni",
        "or", "si", "en", "dans", "par", "pour", "sur", "sous", "avec", "sans", "chez", "vers", "entre", "depuis",
        // Pronouns and determiners.
        "je", "me", "moi", "tu", "te", "toi", "il", "elle", "ils", "elles", "on", "nous", "vous", "se", "lui", "leur",
        "leurs", "eux", "y", "mon", "ma", "mes", "ton", "ta", "tes", "son", "sa", "ses", "notre", "nos", "votre", "vos",
        "ce", "cet", "cette", "ces", "ceci", "cela", "ca", "celui", "celle", "qui", "que", "quoi", "dont", "quel",
        "quelle", "quels", "quelles", "lequel", "laquelle", "tout", "tous", "toute", "toutes", "autre", "meme",
        "quelque", "quelqu", "chose",
        // Question words; "quand" and "combien" are kept: they separate dates and prices.
        "comment", "pourquoi", "ici", "voici", "voila",
        // Auxiliaries and modals.
        "est", "es", "sont", "suis", "etes", "sommes", "etre", "ete", "etait", "etais", "sera", "serait", "ai", "as",
        "avons", "avez", "ont", "avais", "avait", "avoir", "eu", "fait", "faire", "fais", "peux", "peut", "pouvez",
        "pourriez", "pourrais", "pourrait", "puis", "veux", "veut", "voulez", "voudrais", "voudrions", "voulais",
        "souhaite", "souhaiterais", "souhaitons", "aimerais", "aimerions", "dois", "doit", "devez", "faut", "falloir",
        "besoin",
        // Negation and filler adverbs.
        "ne", "pas", "plus", "non", "oui", "rien", "jamais", "toujours", "encore", "deja", "aussi", "tres", "bien",
        "alors", "juste", "vraiment", "svp", "stp", "plait", "merci", "bonjour", "bonsoir", "salut", "madame",
        "monsieur", "aide", "aider", "savoir", "dire", "possible", "ok", "d", "l",
    ];
}
