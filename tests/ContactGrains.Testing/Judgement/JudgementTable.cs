using System.Text.Json;
using ContactGrains.Grains.Conversations;
using System.Text.Json.Serialization;

namespace ContactGrains.Testing;

/// <summary>
/// The labelled judgement table: customer dialogues in English and French, each with the ownership decision a
/// correct policy takes (the bot keeps the conversation, or a human owns it by a given turn, for a primary reason).
/// The table is <c>Judgement/dialogues.json</c>, copied next to the test assemblies of every project that references
/// this one.
/// </summary>
public static class JudgementTable
{
    /// <summary>Where the table is read from: <c>Judgement/dialogues.json</c> under the test output folder.</summary>
    public static string FilePath { get; } = Path.Combine(AppContext.BaseDirectory, "Judgement", "dialogues.json");

    /// <summary>
    /// A held-out set (<c>Judgement/holdout.json</c>, same schema) written without looking at the
    /// detector, the policy or the main table's dialogues, and never used to tune them: its figures
    /// estimate how the policy does on dialogues nobody tuned it for.
    /// </summary>
    public static string HoldoutPath { get; } = Path.Combine(AppContext.BaseDirectory, "Judgement", "holdout.json");

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        // A misspelled property ("bytTurn") must fail loudly, not silently become a routine case.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads every case of the table, in file order. Each call reads the file again.</summary>
    /// <exception cref="FileNotFoundException">The table was not copied to the output folder.</exception>
    /// <exception cref="InvalidDataException">The file is not valid JSON or does not follow the schema.</exception>
    public static IReadOnlyList<JudgementCase> Load() => Load(FilePath);

    /// <summary>Reads every case of the table at <paramref name="path"/>, in file order.</summary>
    public static IReadOnlyList<JudgementCase> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The judgement table was not found at {path}. The test project must reference " +
                "tests/ContactGrains.Testing, which copies Judgement/dialogues.json to its output.",
                path);
        }

        try
        {
            using var stream = File.OpenRead(path);
            var file = JsonSerializer.Deserialize<JudgementFile>(stream, Options)
                ?? throw new InvalidDataException($"{path} is empty (the JSON value is null).");
            return file.Cases;
        }
        catch (JsonException error)
        {
            throw new InvalidDataException(
                $"{path} does not follow the judgement table schema (line {error.LineNumber + 1}, " +
                $"path {error.Path}): {error.Message}",
                error);
        }
    }

    private sealed record JudgementFile
    {
        /// <summary>A sentence for people who open the file; not used by tests.</summary>
        public string? About { get; init; }

        public required IReadOnlyList<JudgementCase> Cases { get; init; }
    }
}

/// <summary>One labelled dialogue: who the customer is, what they write, and the decision expected.</summary>
public sealed record JudgementCase
{
    /// <summary>Unique, readable id, e.g. <c>en-sensitive-fraud-03</c>.</summary>
    public required string Id { get; init; }

    /// <summary><c>en</c> or <c>fr</c>.</summary>
    public required string Language { get; init; }

    /// <summary><see cref="JudgementLabels.Routine"/> or <see cref="JudgementLabels.MustHuman"/>.</summary>
    public required string Category { get; init; }

    /// <summary>The customer's profile; standard tier, no stated preference and no history when the file omits it.</summary>
    public JudgementCustomer Customer { get; init; } = JudgementCustomer.Default;

    /// <summary>The customer's messages only, in order; the bot answers each one in between.</summary>
    public required IReadOnlyList<string> Turns { get; init; }

    /// <summary>The decision a correct policy takes.</summary>
    public required JudgementExpectation Expect { get; init; }

    /// <summary>Why the case exists: the trap it sets, in one line.</summary>
    public required string Note { get; init; }

    /// <summary>True when a human must own the conversation by <see cref="JudgementExpectation.ByTurn"/>.</summary>
    [JsonIgnore]
    public bool MustReachHuman => Expect.Decision == JudgementLabels.Human;

    /// <inheritdoc />
    public override string ToString() => Id;
}

/// <summary>What the policy knows about the customer before the first turn.</summary>
public sealed record JudgementCustomer
{
    /// <summary>A standard customer with no stated preference and no recent contact.</summary>
    public static JudgementCustomer Default { get; } = new();

    /// <summary><c>standard</c> or <c>vip</c>.</summary>
    public string Tier { get; init; } = JudgementLabels.Standard;

    /// <summary>The customer said before that they prefer talking to people.</summary>
    public bool PrefersHumans { get; init; }

    /// <summary>Previous contacts: the intent each was about and how many days ago.</summary>
    public IReadOnlyList<JudgementRecentIntent> RecentIntents { get; init; } = [];
}

/// <summary>A previous contact about <see cref="Intent"/> (a knowledge-base intent id), <see cref="DaysAgo"/> days ago.</summary>
public sealed record JudgementRecentIntent
{
    public required string Intent { get; init; }

    public required int DaysAgo { get; init; }
}

/// <summary>The expected decision: the bot keeps every turn, or a human owns the conversation by a turn.</summary>
public sealed record JudgementExpectation
{
    /// <summary><see cref="JudgementLabels.Bot"/> or <see cref="JudgementLabels.Human"/>.</summary>
    public required string Decision { get; init; }

    /// <summary>For a human decision: the latest 1-based turn at which a human must own the conversation.</summary>
    public int? ByTurn { get; init; }

    /// <summary>For a human decision: the primary reason code expected, one of <see cref="JudgementLabels.Reasons"/>.</summary>
    public string? Reason { get; init; }
}

/// <summary>The labels the table uses, so tests and policies compare against names rather than string literals.</summary>
public static class JudgementLabels
{
    public const string English = "en";
    public const string French = "fr";

    public const string Routine = "routine";
    public const string MustHuman = "must-human";

    public const string Bot = "bot";
    public const string Human = "human";

    public const string Standard = "standard";
    public const string Vip = "vip";

    // The policy's own reason codes: a label the policy cannot give would be a typo.
    public const string CustomerAskedForHuman = OwnershipReasons.CustomerAskedForHuman;
    public const string Frustration = OwnershipReasons.Frustration;
    public const string SensitiveTopic = OwnershipReasons.SensitiveTopic;
    public const string RepeatedFailure = OwnershipReasons.RepeatedFailure;
    public const string LowConfidence = OwnershipReasons.LowConfidence;
    public const string CustomerPreference = OwnershipReasons.CustomerPreference;
    public const string RepeatContact = OwnershipReasons.RepeatContact;
    public const string VipReason = OwnershipReasons.Vip;

    /// <summary>Every reason code a human case may name.</summary>
    public static IReadOnlyList<string> Reasons { get; } =
    [
        CustomerAskedForHuman, Frustration, SensitiveTopic, RepeatedFailure,
        LowConfidence, CustomerPreference, RepeatContact, VipReason,
    ];

    /// <summary>A previous contact about the same intent within this many days makes a repeat contact.</summary>
    public const int RepeatContactWindowDays = 7;
}
