using ContactGrains.Silo.Hosting;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>The watchdog that closes a stream whose client stopped reading (adapter and agent streams alike).</summary>
public sealed class StalledWriteWatchdogTests
{
    [Fact]
    public async Task A_write_that_waits_past_the_timeout_is_cancelled_and_the_watchdog_says_stalled()
    {
        using var watchdog = new StalledWriteWatchdog(TimeSpan.FromMilliseconds(300));
        var writer = new NeverReadWriter();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watchdog.WriteAsync(writer, "event", watchdog.Token).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.True(watchdog.Stalled);
    }

    [Fact]
    public async Task Writes_that_complete_never_stall_however_long_the_stream_is_quiet()
    {
        using var watchdog = new StalledWriteWatchdog(TimeSpan.FromMilliseconds(200));
        var writer = new ReadingWriter();

        await watchdog.WriteAsync(writer, "first", watchdog.Token);
        await Task.Delay(TimeSpan.FromMilliseconds(600)); // quiet: no write pending
        await watchdog.WriteAsync(writer, "second", watchdog.Token);

        Assert.False(watchdog.Stalled);
        Assert.Equal(["first", "second"], writer.Written);
    }

    private sealed class NeverReadWriter : IServerStreamWriter<string>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(string message) => WriteAsync(message, CancellationToken.None);

        // As HTTP/2 flow control does with a client that stopped reading: wait until cancelled.
        public Task WriteAsync(string message, CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);
    }

    private sealed class ReadingWriter : IServerStreamWriter<string>
    {
        public List<string> Written { get; } = [];

        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(string message) => WriteAsync(message, CancellationToken.None);

        public Task WriteAsync(string message, CancellationToken cancellationToken)
        {
            Written.Add(message);
            return Task.CompletedTask;
        }
    }
}
