using System.Diagnostics;
using System.Globalization;
using ContactGrains.Bot;

namespace ContactGrains.LoadTest;

/// <summary>Times the bot's matcher: the work done on every customer message.</summary>
internal static class BotBenchmark
{
    private static readonly string[] Mix =
    [
        "Where is my refund?", "were is my parcle", "je veux annuler ma comande", "ou est mon colis",
        "How do I reset my password?", "my card was charged twice!!", "qsdkjh zzzq wxv",
        "Bonjour, je voudrais une copie de ma facture du mois dernier s'il vous plait",
    ];

    public static int Run(LoadOptions options)
    {
        var bot = new KnowledgeBaseBot(KnowledgeBase.Load(KnowledgeBase.DefaultPath));
        for (var i = 0; i < 2_000; i++)
        {
            bot.Classify(Mix[i % Mix.Length]);
        }

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var timer = Stopwatch.StartNew();
        for (var i = 0; i < options.Iterations; i++)
        {
            bot.Classify(Mix[i % Mix.Length]);
        }

        timer.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bot: {options.Iterations} classifications in {timer.Elapsed.TotalSeconds:F2} s: {timer.Elapsed.TotalMicroseconds / options.Iterations:F1} µs each, {options.Iterations / timer.Elapsed.TotalSeconds:F0}/s on one thread, {allocated / options.Iterations} bytes allocated each"));
        return 0;
    }
}
