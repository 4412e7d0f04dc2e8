using ContactGrains.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// An adapter stream that writes upstream frames as raw bytes (bad UTF-8, truncated or oversized
/// frames: what no generated client would produce) and keeps the downstream frames it receives.
/// </summary>
internal sealed class RawBytesStream : IAsyncDisposable
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);
    private static readonly Method<byte[], ChannelDownstream> Connect = new(
        MethodType.DuplexStreaming, "contactgrains.v1.ChannelService", "Connect", Bytes,
        Marshallers.Create(m => m.ToByteArray(), ChannelDownstream.Parser.ParseFrom));

    private readonly AsyncDuplexStreamingCall<byte[], ChannelDownstream> _call;
    private readonly Lock _lock = new();
    private readonly List<ChannelDownstream> _received = [];
    private readonly StateChanges _changes = new();
    private Task? _reader;

    /// <param name="channel">The silo.</param>
    /// <param name="headers">The call's headers.</param>
    /// <param name="read">False for an adapter that never reads what the server sends, until <see cref="StartReading"/>.</param>
    public RawBytesStream(GrpcChannel channel, Metadata headers, bool read = true)
    {
        _call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(Connect, null, new CallOptions(headers));
        if (read)
        {
            StartReading();
        }
    }

    public void StartReading() => _reader ??= Task.Run(ReadAsync);

    public IReadOnlyList<ChannelDownstream> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Writes one frame's bytes as they are. One write at a time.</summary>
    public Task SendAsync(byte[] frame) => _call.RequestStream.WriteAsync(frame);

    public async Task<Ack> FirstAckAsync(Func<Ack, bool> match)
    {
        Ack? ack = null;
        await _changes.WaitUntilAsync(() => (ack = Received.FirstOrDefault(f => f.Ack is { } a && match(a))?.Ack) is not null || _reader?.IsCompleted == true, SafetyTimeout);
        return ack ?? throw new InvalidOperationException($"The stream ended ({_call.GetStatus()}) without the expected ack; received {Received.Count} frames.");
    }

    /// <summary>Waits for the server to end the call (without half-closing) and returns its status.</summary>
    public async Task<Status> WaitForEndAsync()
    {
        StartReading();
        await _reader!.WaitAsync(SafetyTimeout);
        return _call.GetStatus();
    }

    /// <summary>Half-closes the stream, waits for the server to end the call and returns its status.</summary>
    public async Task<Status> CompleteAsync()
    {
        await _call.RequestStream.CompleteAsync();
        return await WaitForEndAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        if (_reader is not null)
        {
            await _reader;
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var frame in _call.ResponseStream.ReadAllAsync())
            {
                lock (_lock)
                {
                    _received.Add(frame);
                }

                _changes.Changed();
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // The call ended with an error status (see WaitForEndAsync) or was disposed by the test.
        }
        finally
        {
            _changes.Changed();
        }
    }
}
