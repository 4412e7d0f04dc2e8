using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.Cluster.Tests;

/// <summary>The stream a frame was sent on ended before its ack arrived: resend it on a new connection.</summary>
internal sealed class StreamBrokenException(string reason) : Exception($"The adapter stream broke: {reason}");

/// <summary>
/// One Connect stream: a single writer, a reader that completes each frame's ack by correlation id
/// and hands timeline entries to the adapter. When the stream ends (its silo died), every frame
/// still waiting for an ack fails with <see cref="StreamBrokenException"/>.
/// </summary>
internal sealed class AdapterConnection : IAsyncDisposable
{
    /// <summary>A live stream that does not answer a frame in this long is a bug, not a slow cluster.</summary>
    public static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(45);

    private readonly AsyncDuplexStreamingCall<ChannelUpstream, ChannelDownstream> _call;
    private readonly Dictionary<string, TaskCompletionSource<Ack>> _pending = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _writeLock = new(1);
    private readonly Action<AdapterConnection, TimelineEntry> _onEntry;
    private readonly Action<AdapterConnection, Ack> _onUnexpectedAck;
    private readonly TaskCompletionSource<string> _broken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reader;

    public AdapterConnection(
        int generation,
        string address,
        ChannelService.ChannelServiceClient client,
        Action<AdapterConnection, TimelineEntry> onEntry,
        Action<AdapterConnection, Ack> onUnexpectedAck)
    {
        Generation = generation;
        Address = address;
        _onEntry = onEntry;
        _onUnexpectedAck = onUnexpectedAck;
        _call = client.Connect();
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>1 for the adapter's first connection, +1 for each reconnection.</summary>
    public int Generation { get; }

    public string Address { get; }

    public bool IsBroken => _broken.Task.IsCompleted;

    /// <summary>Completes with the reason when the stream has ended.</summary>
    public Task<string> Broken => _broken.Task;

    /// <summary>Sends one frame and waits for its ack.</summary>
    public async Task<Ack> SendAsync(ChannelUpstream frame, string correlationId, CancellationToken cancellationToken)
    {
        var ack = new TaskCompletionSource<Ack>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_broken.Task.IsCompleted)
            {
                throw new StreamBrokenException(_broken.Task.Result);
            }

            if (!_pending.TryAdd(correlationId, ack))
            {
                throw new InvalidOperationException($"Two frames in flight with correlation id '{correlationId}'.");
            }
        }

        try
        {
            await _writeLock.WaitAsync(cancellationToken);
            try
            {
                await _call.RequestStream.WriteAsync(frame, cancellationToken);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            Break($"writing failed ({ex.GetType().Name}: {ex.Message})");
        }

        try
        {
            return await ack.Task.WaitAsync(AckTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No ack for '{correlationId}' within {AckTimeout.TotalSeconds:0} s on the live stream to {Address}.");
        }
    }

    private async Task ReadAsync()
    {
        string reason;
        try
        {
            await foreach (var frame in _call.ResponseStream.ReadAllAsync())
            {
                if (frame.Ack is { } ack)
                {
                    TaskCompletionSource<Ack>? waiting;
                    lock (_lock)
                    {
                        _pending.Remove(ack.CorrelationId, out waiting);
                    }

                    if (waiting is null)
                    {
                        _onUnexpectedAck(this, ack);
                    }
                    else
                    {
                        waiting.TrySetResult(ack);
                    }
                }
                else if (frame.Entry is { } entry)
                {
                    _onEntry(this, entry);
                }
            }

            reason = $"the server ended the call ({_call.GetStatus().StatusCode})";
        }
        catch (RpcException ex)
        {
            reason = $"{ex.StatusCode}: {ex.Status.Detail}";
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            reason = $"{ex.GetType().Name}: {ex.Message}";
        }

        Break(reason);
    }

    private void Break(string reason)
    {
        List<TaskCompletionSource<Ack>> waiting;
        lock (_lock)
        {
            _broken.TrySetResult(reason);
            waiting = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (var ack in waiting)
        {
            ack.TrySetException(new StreamBrokenException(_broken.Task.Result));
        }

        // Ends the reader too, when the break was noticed while writing.
        _call.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        await _reader;
    }
}
