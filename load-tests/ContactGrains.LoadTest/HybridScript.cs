namespace ContactGrains.LoadTest;

/// <summary>One thing a customer says, in a language, and why a human is needed (null: the bot answers it).</summary>
internal sealed record Phrasing(string Text, string Language, string? HumanReason = null)
{
    public bool NeedsHuman => HumanReason is not null;
}

/// <summary>What one conversation of a <c>hybrid</c> run says: one or two routine questions, or one message the bot must hand over.</summary>
internal sealed record ConversationPlan(int Index, bool NeedsHuman, string Language, IReadOnlyList<string> Turns)
{
    /// <summary>The message that should hand the conversation over (for a routine one: its last question).</summary>
    public string Deciding => Turns[^1];
}

/// <summary>
/// The customers of a <c>hybrid</c> run: which conversations need a human (an exact share, spread
/// evenly) and what each one says. Deterministic, so a run can be repeated and a surprise traced back
/// to the phrasing that caused it.
/// </summary>
/// <remarks>
/// The phrasings come from the signal detector's and the judgement table's cases (the bot's own
/// tests): requests for a person, sensitive topics (fraud, bereavement, complaints, legal) and anger,
/// in English and French. The routine questions are ones the shipped knowledge base answers with
/// confidence and the ownership policy leaves with the bot; <c>HybridScriptTests</c> replays every one
/// through the real bot, detector and policy, so a phrasing the bot would treat otherwise fails a test
/// rather than a load run.
/// </remarks>
internal static class HybridScript
{
    public static readonly Phrasing[] Routine =
    [
        new("Where is my parcel?", "en"),
        new("How do I reset my password?", "en"),
        new("Can I get a copy of my invoice?", "en"),
        new("I want to cancel my order", "en"),
        new("Where is my refund?", "en"),
        new("How do I return an item?", "en"),
        new("What are your opening hours?", "en"),
        new("How much is shipping?", "en"),
        new("Je voudrais changer mon adresse de livraison", "fr"),
        new("Quand dois-je payer ma facture ?", "fr"),
        new("Où est mon colis ?", "fr"),
        new("Comment retourner un article ?", "fr"),
    ];

    public static readonly Phrasing[] NeedsHuman =
    [
        new("Can I please speak to a real person about my order?", "en", "asks for a person"),
        new("There's a payment on my card I don't recognise", "en", "fraud"),
        new("This is ridiculous, still no refund after 3 weeks!!!", "en", "anger"),
        new("My husband passed away last month and the account is in his name", "en", "bereavement"),
        new("I want to make a formal complaint", "en", "complaint"),
        new("someone used my card to buy things, it wasn't me", "en", "fraud"),
        new("I'll be contacting my lawyer about this", "en", "legal"),
        new("Je voudrais parler à un conseiller", "fr", "asks for a person"),
        new("Il y a un prélèvement que je ne reconnais pas", "fr", "fraud"),
        new("C'est inadmissible, toujours pas de remboursement !!!", "fr", "anger"),
        new("Mettez-moi en relation avec une vraie personne", "fr", "asks for a person"),
        new("je souhaite faire une réclamation", "fr", "complaint"),
    ];

    /// <summary>
    /// Whether conversation <paramref name="index"/> (0-based) needs a human: exactly
    /// ⌊(n + 1) × share⌋ of the first n + 1 conversations do, evenly spread, so any prefix of a run
    /// has the share asked for, rounded down.
    /// </summary>
    public static bool IsHuman(int index, double share)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfNegative(share);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(share, 1);
        return Math.Floor((index + 1) * share) > Math.Floor(index * share);
    }

    /// <summary>
    /// Conversation <paramref name="index"/>'s plan. A routine conversation asks two different questions
    /// in one language; a human-needing one says one of <see cref="NeedsHuman"/>, every third time after
    /// a routine question in its language (the bot answers that one first).
    /// </summary>
    public static ConversationPlan For(int index, double share)
    {
        if (IsHuman(index, share))
        {
            // Numbered among the human conversations only, so consecutive ones cycle through every phrasing.
            var humanIndex = (int)Math.Floor(index * share);
            var phrasing = NeedsHuman[humanIndex % NeedsHuman.Length];
            var turns = humanIndex % 3 == 2
                ? new[] { RoutineIn(phrasing.Language, humanIndex).Text, phrasing.Text }
                : [phrasing.Text];
            return new ConversationPlan(index, true, phrasing.Language, turns);
        }

        var routineIndex = index - (int)Math.Floor((index + 1) * share);
        var first = Routine[routineIndex % Routine.Length];
        var second = RoutineIn(first.Language, routineIndex + 1, except: first);
        return new ConversationPlan(index, false, first.Language, [first.Text, second.Text]);
    }

    private static Phrasing RoutineIn(string language, int seed, Phrasing? except = null)
    {
        var candidates = Routine.Where(r => r.Language == language && r != except).ToArray();
        return candidates[seed % candidates.Length];
    }
}
