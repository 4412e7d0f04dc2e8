using System.Globalization;
using System.Text.RegularExpressions;

namespace ContactGrains.Grains.Conversations;

/// <summary>
/// Whether a customer's message, written after a conversation asked for a rating, is that rating
/// (1 to 5): a message that is only a rating ("4", "4/5", "4 out of 5", "4 étoiles", "★★★★",
/// "four", "quatre"), never a sentence that happens to hold a number ("5 minutes later it broke").
/// Anything else starts a new conversation, as any message after the end does.
/// </summary>
public static partial class RatingAnswer
{
    private static readonly Dictionary<string, int> Words = new(StringComparer.OrdinalIgnoreCase)
    {
        ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5,
        ["un"] = 1, ["une"] = 1, ["deux"] = 2, ["trois"] = 3, ["quatre"] = 4, ["cinq"] = 5,
    };

    public static int? Parse(string text)
    {
        var trimmed = text.Trim().TrimEnd('!', '.', ' ');
        if (trimmed.Length is 0 or > 32)
        {
            return null;
        }

        // Stars: ★★★★, ⭐⭐⭐, ****.
        var stars = trimmed.Replace("⭐", "★", StringComparison.Ordinal).Replace('*', '★');
        if (stars.All(c => c == '★'))
        {
            return stars.Length is >= 1 and <= 5 ? stars.Length : null;
        }

        var match = Shape().Match(trimmed);
        if (!match.Success)
        {
            return null;
        }

        var value = match.Groups["value"].Value;
        var rating = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number
            : Words.GetValueOrDefault(value);
        return rating is >= 1 and <= 5 ? rating : null;
    }

    // A value, then optionally "/5", "out of 5", "sur 5", "stars", "étoiles".
    [GeneratedRegex(@"^(?<value>\d|one|two|three|four|five|une?|deux|trois|quatre|cinq)\s*(?:(?:/|out of|sur)\s*(?:5|five|cinq))?\s*(?:stars?|étoiles?|etoiles?)?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
