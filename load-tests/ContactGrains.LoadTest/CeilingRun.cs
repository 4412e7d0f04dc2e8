using System.CommandLine;
using System.Globalization;
using ContactGrains.Testing;

namespace ContactGrains.LoadTest;

/// <summary>
/// The same closed-loop channel load (<see cref="ChannelLoad.MeasureAsync"/>) against the echo server
/// (the channel API answered from memory: gRPC, HTTP/2 and the client library alone) and against the
/// development silo (in memory, one silo), each a separate process started here: ContactGrains as a
/// share of that ceiling, in messages per second and in server CPU per message.
/// </summary>
internal static class CeilingRun
{
    /// <summary>The echo server prints this, then its address, once it listens (EchoHosting.ListeningPrefix).</summary>
    private const string EchoListeningPrefix = "echo server listening on ";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    public static Command CreateCommand(Option<int> maxSeconds)
    {
        var command = new Command("ceiling", """
            Runs the channel load (as the channel command) against the echo server, the channel API
            answered from memory with no Orleans and no bot, then against the development silo (in
            memory, one silo); each is started here as a separate process on a free loopback port, warmed
            up with --warm-up-runs runs of the same size, measured, and stopped. Prints both and
            ContactGrains as a share of the ceiling: messages per second, server CPU per message.
            --max-seconds bounds each run.
            """);
        var load = new LoadShapeOptions(command, maxSeconds, streams: 4, conversations: 1000,
            "Connect streams (one ChannelConnection each); the conversations are shared among them.");

        // .NET compiles hot code again, optimised, only after it has run for a while: a server measured
        // after one short run is measured half-compiled, which the silo (much more code) suffers most.
        var warmUps = LoadCommands.PositiveNumber("--warm-up-runs", 5, "Runs of the same size before the measured one, on each server (so both are measured with their code fully compiled).", "count", max: 20);
        command.Options.Add(warmUps);
        command.SetAction((parse, cancellationToken) => RunAsync(load.Read(parse) with { WarmUpRuns = parse.GetValue(warmUps) }, parse.GetValue(load.Report), cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(LoadOptions options, string? reportDirectory, CancellationToken cancellationToken = default)
    {
        if (ServerCommands.FindBuilt(ServerCommands.EchoProject, ServerCommands.EchoAssembly, "ceiling") is not { } echoDll
            || ServerCommands.FindBuilt(ServerCommands.SiloProject, ServerCommands.SiloAssembly, "ceiling") is not { } siloDll)
        {
            return 1;
        }

        var report = ServerCommands.NewReport("ceiling", options);
        Console.WriteLine($"ceiling: {options.Conversations} conversations × {options.Turns} turns over {options.Streams} streams, against the echo server, then the development silo (each run stops after {options.MaxSeconds} s)");

        var root = Directory.CreateTempSubdirectory("contactgrains-ceiling-").FullName;
        try
        {
            var echo = await MeasureAsync(
                "echo",
                options,
                () => ServerProcess.Start("echo-server", RepositoryBuild.CopyOutput(echoDll, Path.Combine(root, "echo")), ["--urls", "http://127.0.0.1:0"], root),
                async server => server.Address = (await server.WaitForLineAsync(EchoListeningPrefix, StartTimeout)).Split(' ')[0],
                cancellationToken);
            var unique = "ceiling-" + Guid.NewGuid().ToString("N")[..8];
            var settings = new SiloSettings("silo", ConnectionString: null, unique, unique);
            var silo = await MeasureAsync(
                "silo",
                options,
                () => ServerProcess.Start("silo", RepositoryBuild.CopyOutput(siloDll, Path.Combine(root, "silo")), settings.Arguments, root, settings.Address),
                server => server.WaitServingAsync(StartTimeout),
                cancellationToken);

            Fill(report, echo, silo);
            var share = Ceiling.Share(silo.Result.MessagesPerSecond, echo.Result.MessagesPerSecond);
            var cpuFactor = Ceiling.Share(silo.ServerMicrosecondsPerMessage, echo.ServerMicrosecondsPerMessage);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ContactGrains: {Format(share * 100, "F1")} % of the ceiling's messages/s; server CPU per message {Format(cpuFactor, "F1")} × the ceiling's"));
            report.Passed = echo.Result.Passed && silo.Result.Passed;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException)
        {
            report.Problems.Add(ex.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        return report.Conclude(reportDirectory, "every message acknowledged and every conversation complete, in order, gap-free, on both");
    }

    /// <summary>One side: the server started and ready, the warm-up runs, the measured run, the server stopped.</summary>
    private static async Task<ServerRun> MeasureAsync(
        string side, LoadOptions options, Func<ServerProcess> start, Func<ServerProcess, Task> ready, CancellationToken cancellationToken)
    {
        await using var server = start();
        await ready(server);
        var run = options with { Address = server.Address, SiloPid = null };
        for (var i = 0; i < options.WarmUpRuns; i++)
        {
            var warmUp = await ChannelLoad.MeasureAsync(run, cancellationToken);
            if (!warmUp.Passed)
            {
                throw new InvalidOperationException($"{side}: warm-up run {i + 1} failed: {string.Join("; ", warmUp.Problems.Take(3))}\n{server.LogTail()}");
            }
        }

        var cpuBefore = server.CpuSeconds();
        var result = await ChannelLoad.MeasureAsync(run, cancellationToken);
        var cpuAfter = server.CpuSeconds();
        var serverRun = new ServerRun(side, result, Ceiling.MicrosecondsPerMessage(cpuAfter - cpuBefore, result.Messages));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{side,-5} {result.MessagesPerSecond,9:F0} messages/s ({result.Messages}/{result.Expected} acked in {result.Elapsed.TotalSeconds:F2} s), ack {result.AckLatency}, server CPU {Format(serverRun.ServerMicrosecondsPerMessage)} µs/message, generator CPU {Format(Ceiling.MicrosecondsPerMessage(result.GeneratorCpuSeconds, result.Messages))} µs/message"));
        foreach (var problem in result.Problems.Take(5))
        {
            Console.WriteLine($"{side} problem: {problem}");
        }

        return serverRun;
    }

    private static void Fill(LoadReport report, ServerRun echo, ServerRun silo)
    {
        foreach (var side in (ServerRun[])[echo, silo])
        {
            report.Add($"{side.Side} messages/s", side.Result.MessagesPerSecond, "messages/s");
            AddKnown(report, $"{side.Side} server CPU per message", side.ServerMicrosecondsPerMessage, "µs");
            AddKnown(report, $"{side.Side} generator CPU per message", Ceiling.MicrosecondsPerMessage(side.Result.GeneratorCpuSeconds, side.Result.Messages), "µs");
            report.Latencies[$"{side.Side} ack"] = side.Result.AckLatency;
            report.Problems.AddRange(side.Result.Problems.Select(p => $"{side.Side}: {p}"));
        }

        AddKnown(report, "silo share of the ceiling's messages/s", Ceiling.Share(silo.Result.MessagesPerSecond, echo.Result.MessagesPerSecond) * 100, "%");
        AddKnown(report, "silo server CPU per message, times the ceiling's", Ceiling.Share(silo.ServerMicrosecondsPerMessage, echo.ServerMicrosecondsPerMessage), "×");
    }

    /// <summary>A figure that could not be measured (a process gone, nothing acknowledged) is left out rather than reported as zero.</summary>
    private static void AddKnown(LoadReport report, string name, double? value, string unit)
    {
        if (value is { } known)
        {
            report.Add(name, known, unit);
        }
    }

    private static string Format(double? value, string format = "F0") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "?";

    private sealed record ServerRun(string Side, ChannelRunResult Result, double? ServerMicrosecondsPerMessage);
}

/// <summary>The comparisons of the ceiling command.</summary>
internal static class Ceiling
{
    /// <summary><paramref name="measured"/> as a fraction of <paramref name="ceiling"/>; null when the ceiling is not positive.</summary>
    public static double? Share(double? measured, double? ceiling) =>
        measured is { } m && ceiling is { } c && c > 0 ? m / c : null;

    /// <summary>CPU microseconds per message; null when the CPU time is unknown or nothing was acknowledged.</summary>
    public static double? MicrosecondsPerMessage(double? cpuSeconds, int messages) =>
        cpuSeconds is { } seconds && messages > 0 ? seconds * 1_000_000 / messages : null;
}
