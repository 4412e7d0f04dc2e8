using System.Diagnostics;
using System.Globalization;
using ContactGrains.Bot;
using ContactGrains.Bot.Signals;
using ContactGrains.Grains.Ownership;
using ContactGrains.Grains.Routing;

namespace ContactGrains.LoadTest;

/// <summary>Times the work done on every customer message: the bot's matcher, the signal detector, and a whole judged turn.</summary>
internal static class BotBenchmark
{
    private static readonly string[] Mix =
    [
        "Where is my refund?", "were is my parcle", "je veux annuler ma comande", "ou est mon colis",
        "How do I reset my password?", "my card was charged twice!!", "qsdkjh zzzq wxv",
        "Bonjour, je voudrais une copie de ma facture du mois dernier s'il vous plait",
        "I don't need an adviser, just tell me where my refund is", "THIS IS RIDICULOUS, STILL NO REFUND!!!",
    ];

    public static async Task<int> RunAsync(LoadOptions options)
    {
        if (!CompiledAsTheSilo() && await RunTieredAsync() is { } exitCode)
        {
            return exitCode;
        }

        var bot = new KnowledgeBaseBot(KnowledgeBase.Load(KnowledgeBase.DefaultPath));
        var detector = new LexiconSignalDetector();
        var routing = new RoutingOptions();
        var judge = new TurnJudge(bot, detector, new OwnershipPolicy(new OwnershipOptions()), routing.HumanRequestIntent);
        var history = TurnHistory.Empty;
        var now = DateTimeOffset.UtcNow;

        Measure("bot", options.Iterations, i => bot.Classify(Mix[i % Mix.Length]));
        Measure("signal detector", options.Iterations, i => detector.Detect(Mix[i % Mix.Length], i % 4 == 2 || i % 4 == 3 ? "fr" : "en"));
        Measure("judged turn (bot, detector, policy)", options.Iterations / 2,
            i => judge.JudgeAsync(Mix[i % Mix.Length], null, history, CustomerFacts.Unknown, routing.DefaultSkill, now).GetAwaiter().GetResult());
        await Task.CompletedTask;
        return 0;
    }

    /// <summary>
    /// The silo's code tiers up with profile-guided optimisation; this generator's process compiles
    /// without tiers (its project file), which would time the bot differently from how the silo runs it.
    /// </summary>
    /// <remarks>
    /// The environment variable overrides the project's setting (the switch still reads false), so it
    /// is checked first: the child started by <see cref="RunTieredAsync"/> must not start another.
    /// </remarks>
    private static bool CompiledAsTheSilo() =>
        Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") == "1"
        || !AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out var tiered) || tiered;

    /// <summary>Runs this same command line again in a child process with tiered compilation on; null if it cannot start.</summary>
    private static async Task<int?> RunTieredAsync()
    {
        var self = Environment.ProcessPath;
        if (self is null)
        {
            return null;
        }

        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BotBenchmark).Assembly.Location);
        }

        foreach (var argument in Environment.GetCommandLineArgs().Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_TieredCompilation"] = "1";
        using var child = Process.Start(start);
        if (child is null)
        {
            return null;
        }

        await child.WaitForExitAsync();
        return child.ExitCode;
    }

    private static void Measure(string what, int iterations, Action<int> work)
    {
        for (var i = 0; i < 2_000; i++)
        {
            work(i);
        }

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var timer = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            work(i);
        }

        timer.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {iterations} in {timer.Elapsed.TotalSeconds:F2} s: {timer.Elapsed.TotalMicroseconds / iterations:F1} µs each, {iterations / timer.Elapsed.TotalSeconds:F0}/s on one thread, {allocated / iterations} bytes allocated each"));
    }
}
