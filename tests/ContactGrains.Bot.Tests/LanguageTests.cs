namespace ContactGrains.Bot.Tests;

/// <summary>Which language the bot answers in.</summary>
public sealed class LanguageTests
{
    [Fact]
    public void Answer_is_in_the_language_written_even_when_the_profile_says_otherwise()
    {
        var french = SampleBot.Reply("ou est mon colis", "en");
        var english = SampleBot.Reply("where is my parcel", "fr");

        Assert.Equal("fr", french.Language);
        Assert.Equal(SampleBot.KnowledgeBase.FindIntent("delivery_tracking")!.Answers["fr"], french.Text);
        Assert.Equal("en", english.Language);
        Assert.Equal(SampleBot.KnowledgeBase.FindIntent("delivery_tracking")!.Answers["en"], english.Text);
    }

    [Theory]
    [InlineData("en")]
    [InlineData("fr")]
    public void Text_valid_in_both_languages_is_answered_in_the_preferred_language(string preferred)
    {
        var reply = SampleBot.Reply("express", preferred);

        Assert.True(reply.Understood);
        Assert.Equal("shipping_costs", reply.IntentId);
        Assert.Equal(preferred, reply.Language);
    }

    [Fact]
    public void Text_valid_in_both_languages_is_answered_in_the_first_language_without_a_preference()
    {
        var reply = SampleBot.Reply("express");

        Assert.True(reply.Understood);
        Assert.Equal("en", reply.Language);
    }

    [Theory]
    [InlineData("FR")]
    [InlineData("fr-CA")]
    [InlineData("fr_FR")]
    [InlineData(" fr ")]
    public void Preferred_language_tags_are_matched_on_their_primary_language(string tag)
    {
        Assert.Equal("fr", SampleBot.KnowledgeBase.ResolveLanguage(tag));
        Assert.Equal("fr", SampleBot.Reply("express", tag).Language);
    }

    [Theory]
    [InlineData("de")]
    [InlineData("")]
    [InlineData(null)]
    public void Unknown_preferred_language_is_ignored(string? tag)
    {
        Assert.Null(SampleBot.KnowledgeBase.ResolveLanguage(tag));

        var reply = SampleBot.Reply("qqqq zzzz", tag);

        Assert.Equal("en", reply.Language);
    }
}
