using System.Collections.Immutable;

namespace ContactGrains.Grains.Ownership;

/// <summary>What the ownership policy remembers of a conversation's earlier customer messages (stored with the conversation).</summary>
/// <param name="CustomerTurns">Customer messages so far.</param>
/// <param name="ConsecutiveMisses">Messages in a row the bot did not understand, small talk aside.</param>
/// <param name="RecentAnger">The anger of the last few messages, oldest first.</param>
/// <param name="RecentTerms">The content words of the last few messages: tells a question asked again.</param>
/// <param name="LastIntent">The last intent the bot answered.</param>
/// <param name="Intents">Intents the bot answered in this conversation.</param>
[GenerateSerializer, Immutable, Alias("cg.TurnHistory")]
public sealed record TurnHistory(
    [property: Id(0)] int CustomerTurns,
    [property: Id(1)] int ConsecutiveMisses,
    [property: Id(2)] ImmutableArray<double> RecentAnger,
    [property: Id(3)] ImmutableArray<ImmutableArray<string>> RecentTerms,
    [property: Id(4)] string? LastIntent,
    [property: Id(5)] ImmutableArray<string> Intents)
{
    public const int TermsKept = 3;
    public const int IntentsKept = 10;

    public static readonly TurnHistory Empty = new(0, 0, [], [], null, []);
}
