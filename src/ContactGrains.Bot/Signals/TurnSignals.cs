using System.Collections.Immutable;

namespace ContactGrains.Bot.Signals;

/// <summary>Whether the customer asked for a human in this message.</summary>
public enum HumanRequest
{
    /// <summary>No request for a human.</summary>
    None,

    /// <summary>A request for a human ("agent", "can I talk to a real person?").</summary>
    Explicit,

    /// <summary>A human was mentioned and declined ("I don't need an adviser, just …").</summary>
    Negated,
}

/// <summary>
/// What one customer message says beyond its topic: the signals the ownership policy weighs. Values
/// are explainable: every signal names the words (cues) that raised it.
/// </summary>
/// <param name="HumanRequest">Whether the message asks for a human.</param>
/// <param name="HumanCue">The words that asked for (or declined) a human; null when none.</param>
/// <param name="Anger">0 (calm) to 1 (furious), from this message alone.</param>
/// <param name="AngerCues">What raised <paramref name="Anger"/>: "capitals", "repeated-punctuation", "insult", "threat-to-leave", "still-not-working", "exasperation".</param>
/// <param name="SensitiveTopic">A topic that may need a human whatever the bot knows ("fraud", "dispute", "bereavement", "hardship", "legal", "complaint", "data-protection"), or null.</param>
/// <param name="SensitiveCue">The words that named <paramref name="SensitiveTopic"/>.</param>
/// <param name="SaysItDidNotHelp">"That didn't help", "not my question".</param>
/// <param name="IsSmallTalk">Only greetings, thanks, yes/no, goodbyes: never a miss.</param>
/// <param name="PrefersHumans">The customer says they prefer humans to bots, in general.</param>
/// <param name="Terms">The message's content words, stemmed: tells the same question asked again.</param>
/// <param name="Remainder">What the customer asked besides a human: after a declined human (<see cref="HumanRequest.Negated"/>), what they asked instead; otherwise the clauses after the first, or null.</param>
/// <param name="StakesCue">A word of a high-stakes matter (payment, card, account, security), or null.</param>
/// <param name="AsksIfBot">"Are you a bot?": a question about the assistant, not a request for a human.</param>
public sealed record TurnSignals(
    HumanRequest HumanRequest,
    string? HumanCue,
    double Anger,
    ImmutableArray<string> AngerCues,
    string? SensitiveTopic,
    string? SensitiveCue,
    bool SaysItDidNotHelp,
    bool IsSmallTalk,
    bool PrefersHumans,
    ImmutableArray<string> Terms,
    string? Remainder,
    string? StakesCue = null,
    bool AsksIfBot = false)
{
    /// <summary>A message with no signal at all.</summary>
    public static readonly TurnSignals None = new(HumanRequest.None, null, 0, [], null, null, false, false, false, [], null);
}

/// <summary>
/// Reads the signals of one customer message. The default is <see cref="LexiconSignalDetector"/>
/// (lexicons and rules, English and French); a model-based classifier can replace it behind this interface.
/// </summary>
/// <remarks>Implementations must be safe to call concurrently and fast enough for every customer message.</remarks>
public interface ISignalDetector
{
    /// <param name="text">The customer's message, raw.</param>
    /// <param name="language">The message's language as the bot detected it ("en", "fr").</param>
    TurnSignals Detect(string text, string language);
}
