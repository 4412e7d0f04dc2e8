using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace ContactGrains.LoadTest;

/// <summary>What the live view shows of a run going on: read from the run's counters, never kept.</summary>
internal readonly record struct ProgressSnapshot(long Acked, long Expected, double P99Ms);

/// <summary>
/// A live line on standard error while a run goes on (acked so far, current rate, p99 so far,
/// elapsed), only when standard error is a terminal: scripts and tests read standard output alone.
/// </summary>
internal static class ProgressView
{
    // A few refreshes a second at most: each reads the histogram, and the generator must stay cheap.
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromMilliseconds(250);

    public static async Task<T> ShowWhileAsync<T>(Task<T> run, Func<ProgressSnapshot> snapshot)
    {
        if (Console.IsErrorRedirected)
        {
            return await run;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var started = Stopwatch.GetTimestamp();
        var previous = (Acked: 0L, At: started);
        await console.Live(Render(default, 0, TimeSpan.Zero)).StartAsync(async context =>
        {
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(RefreshEvery));
                var now = Stopwatch.GetTimestamp();
                var current = snapshot();
                var seconds = Stopwatch.GetElapsedTime(previous.At, now).TotalSeconds;
                var rate = seconds > 0 ? (current.Acked - previous.Acked) / seconds : 0;
                previous = (current.Acked, now);
                context.UpdateTarget(Render(current, rate, Stopwatch.GetElapsedTime(started, now)));
                context.Refresh();
            }
        });
        return await run;
    }

    private static Text Render(ProgressSnapshot snapshot, double messagesPerSecond, TimeSpan elapsed) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"acked {snapshot.Acked:#,0}/{snapshot.Expected:#,0}  {messagesPerSecond:#,0} messages/s  p99 so far {snapshot.P99Ms:F1} ms  {elapsed.TotalSeconds:F1} s"));
}
