namespace ContactGrains.Bot.Tests;

/// <summary>One bot serves every conversation of a silo at once.</summary>
public sealed class ConcurrencyTests
{
    private static readonly string[] Messages =
    [
        "were is my parcel", "ou est mon colis", "i still havent got my refnud", "je veux supprimer mon compte",
        "asdkjh qwe zzz", "", "Hi there, I ordered a blender last Monday and it still hasn't arrived, any news?",
        "paiement en plusieurs fois possible ?", "the weather in Tokyo is nice", "code promo", "cancell my order",
        "Je souhaiterais savoir s'il est possible de régler mon achat en plusieurs mensualités",
        new string('a', 5000), string.Join(' ', Enumerable.Repeat("refund where parcel colis", 200)),
    ];

    [Fact]
    public void Parallel_classify_calls_return_the_same_results_as_sequential_ones()
    {
        var bot = SampleBot.Bot;
        var expected = Messages.Select(bot.Classify).ToArray();
        var actual = new IReadOnlyList<IntentMatch>[Messages.Length * 50];

        Parallel.For(0, actual.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => actual[i] = bot.Classify(Messages[i % Messages.Length]));

        for (var i = 0; i < actual.Length; i++)
        {
            Assert.Equal(expected[i % Messages.Length], actual[i]);
        }
    }

    [Fact]
    public async Task Parallel_replies_return_the_same_results_as_sequential_ones()
    {
        var bot = SampleBot.Bot;
        var expected = new BotReply[Messages.Length];
        for (var i = 0; i < Messages.Length; i++)
        {
            expected[i] = await bot.ReplyAsync(new BotRequest(Messages[i], i % 2 == 0 ? "fr" : null));
        }

        var tasks = Enumerable.Range(0, Messages.Length * 50)
            .Select(i => Task.Run(async () => (Index: i % Messages.Length, Reply: await bot.ReplyAsync(new BotRequest(Messages[i % Messages.Length], i % Messages.Length % 2 == 0 ? "fr" : null)))))
            .ToArray();
        var results = await Task.WhenAll(tasks);

        Assert.All(results, result => Assert.Equal(expected[result.Index], result.Reply));
    }
}
