using ContactGrains.Grains.Conversations;

namespace ContactGrains.Grains.Tests;

/// <summary>How customers answer "from 1 to 5?" in a chat box, and what is not an answer.</summary>
public sealed class RatingAnswerTests
{
    public static TheoryData<string, int?> Answers => new()
    {
        { "5", 5 },
        { " 4 ", 4 },
        { "1.", 1 },
        { "5!", 5 },
        { "4/5", 4 },
        { "3 / 5", 3 },
        { "4 out of 5", 4 },
        { "2 sur 5", 2 },
        { "5 stars", 5 },
        { "1 star", 1 },
        { "4 étoiles", 4 },
        { "3 etoiles", 3 },
        { "★★★★", 4 },
        { "⭐⭐⭐⭐⭐", 5 },
        { "***", 3 },
        { "four", 4 },
        { "Five!", 5 },
        { "quatre", 4 },
        { "cinq sur cinq", 5 },
        { "une étoile", 1 },

        // Not ratings: out of range, or a sentence holding a number.
        { "0", null },
        { "6", null },
        { "10/10", null },
        { "★★★★★★", null },
        { "5 minutes later it broke again", null },
        { "I have 2 questions", null },
        { "hello", null },
        { "", null },
        { "45", null },
        { "4.5", null },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void A_message_that_is_only_a_rating_is_taken_as_the_rating(string text, int? expected) =>
        Assert.Equal(expected, RatingAnswer.Parse(text));
}
