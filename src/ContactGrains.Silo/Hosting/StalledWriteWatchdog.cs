using System.Diagnostics;
using Grpc.Core;

namespace ContactGrains.Silo.Hosting;

/// <summary>
/// Ends a server stream whose client stopped reading. HTTP/2 flow control makes a write wait while
/// the client's window is full, and a client that never reads again (a hung adapter, a frozen
/// desktop) would hold the stream, its conversations' delivery and an agent's assignments forever.
/// A write pending longer than the timeout cancels <see cref="Token"/>, which the stream's session
/// links into everything it does. No allocation per write: one timer checks the pending write's age.
/// </summary>
public sealed class StalledWriteWatchdog : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenSource _stalled = new();
    private readonly Timer _timer;
    private long _writeStartedAt;

    public StalledWriteWatchdog(TimeSpan timeout)
    {
        _timeout = timeout;
        var period = TimeSpan.FromTicks(Math.Max(timeout.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks));
        _timer = new Timer(_ => Check(), null, period, period);
    }

    /// <summary>Cancelled once a write has waited longer than the timeout.</summary>
    public CancellationToken Token => _stalled.Token;

    public bool Stalled => _stalled.IsCancellationRequested;

    public TimeSpan Timeout => _timeout;

    /// <summary>Writes one message, watched.</summary>
    public async Task WriteAsync<T>(IServerStreamWriter<T> writer, T message, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _writeStartedAt, Stopwatch.GetTimestamp());
        try
        {
            await writer.WriteAsync(message, cancellationToken);
        }
        finally
        {
            Volatile.Write(ref _writeStartedAt, 0);
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _stalled.Dispose();
    }

    private void Check()
    {
        var startedAt = Volatile.Read(ref _writeStartedAt);
        if (startedAt != 0 && Stopwatch.GetElapsedTime(startedAt) > _timeout)
        {
            try
            {
                _stalled.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream ended meanwhile.
            }
        }
    }
}
