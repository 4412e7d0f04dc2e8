using System.Globalization;
using System.Resources;

namespace ContactGrains.Grains.Conversations;

/// <summary>
/// Everything the customer reads that the grains write (queue places, an adviser joining, closing,
/// the bot handing over), in the customer's language: CustomerNotices.resx (English, also the
/// fallback for a language without texts) and CustomerNotices.fr.resx.
/// </summary>
public static class CustomerNotices
{
    private static readonly ResourceManager Resources = new("ContactGrains.Grains.Conversations.CustomerNotices", typeof(CustomerNotices).Assembly);

    /// <summary>Every notice key, for tests that check each language has every text.</summary>
    public static readonly IReadOnlyList<string> Keys =
    [
        "Queued", "QueuedNobodySignedIn", "MovedUp", "Transferred", "ReturnedAdviserDisconnected", "ReturnedAdviserLeft",
        "WaitUnknown", "WaitUnderMinute", "WaitMinutes", "AgentJoined", "BotResumed", "Resolved", "ClosedInactive", "Closed",
        .. Ownership.OwnershipPolicy.ReasonOrder.Select(HandoverKey),
    ];

    /// <summary>The text of <paramref name="key"/> in <paramref name="language"/> ("fr", "fr-CA"; English when unknown), filled with <paramref name="args"/>.</summary>
    public static string Get(string key, string? language, params object[] args)
    {
        var culture = Culture(language);
        var text = Resources.GetString(key, culture) ?? throw new InvalidOperationException($"Customer notice '{key}' has no text.");
        return args.Length == 0 ? text : string.Format(culture, text, args);
    }

    /// <summary>What the bot says when it hands over for <paramref name="reasonCode"/>.</summary>
    public static string Handover(string reasonCode, string? language) => Get(HandoverKey(reasonCode), language);

    /// <summary>"Position 2: an adviser should be with you in under a minute" and the like, for a queue placement.</summary>
    public static (string Wait, int WaitSeconds) Wait(TimeSpan? estimate, string? language) => estimate switch
    {
        null => (Get("WaitUnknown", language), 0),
        { TotalSeconds: < 60 } => (Get("WaitUnderMinute", language), (int)Math.Ceiling(estimate.Value.TotalSeconds)),
        var some => (Get("WaitMinutes", language, Math.Ceiling(some.Value.TotalMinutes).ToString("0", CultureInfo.InvariantCulture)), (int)Math.Ceiling(some.Value.TotalSeconds)),
    };

    private static string HandoverKey(string reasonCode) => "Handover_" + reasonCode;

    private static CultureInfo Culture(string? language)
    {
        if (string.IsNullOrWhiteSpace(language))
        {
            return CultureInfo.InvariantCulture;
        }

        try
        {
            return CultureInfo.GetCultureInfo(language);
        }
        catch (CultureNotFoundException)
        {
            return CultureInfo.InvariantCulture;
        }
    }
}
