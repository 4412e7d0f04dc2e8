using System.Collections.Concurrent;
using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Net.Client;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// A channel adapter as a real one would be written: one Connect stream at a time, to one of the
/// silos it knows. When the stream breaks it reconnects to the next address; each conversation
/// then resumes from the last sequence it saw and resends what was not acknowledged
/// (<see cref="ConversationDriver"/>). Every entry received, on every connection, is filed per
/// conversation in arrival order.
/// </summary>
internal sealed class TestAdapter : IAsyncDisposable
{
    public const string ChannelName = "webchat";

    /// <summary>Pause before reconnecting, so a dead address is not hammered.</summary>
    private static readonly TimeSpan ReconnectPause = TimeSpan.FromMilliseconds(250);

    private readonly IReadOnlyList<string> _addresses;
    private readonly Dictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _reconnect = new(1);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<long>> _received = new(StringComparer.Ordinal);
    private readonly List<AdapterConnection> _connections = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private AdapterConnection _current;
    private int _addressIndex;
    private int _epoch;

    public TestAdapter(IReadOnlyList<string> addresses, int firstAddress = 0)
    {
        _addresses = addresses;
        foreach (var address in addresses)
        {
            _channels[address] = ChannelClient.OpenChannel(address);
        }

        _addressIndex = firstAddress;
        _current = Open(1);
    }

    /// <summary>Time since the adapter started; every event is stamped with it.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>A phase number the test advances (before a kill, after it, …); messages remember the epoch they were first sent in.</summary>
    public int Epoch
    {
        get => Volatile.Read(ref _epoch);
        set => Volatile.Write(ref _epoch, value);
    }

    public AdapterConnection Current => Volatile.Read(ref _current);

    /// <summary>Every connection this adapter opened, oldest first.</summary>
    public IReadOnlyList<AdapterConnection> Connections
    {
        get
        {
            lock (_lock)
            {
                return [.. _connections];
            }
        }
    }

    /// <summary>What happened to the adapter's connections, stamped with <see cref="Now"/>.</summary>
    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>Acks that answered no frame in flight: must stay empty.</summary>
    public ConcurrentQueue<Ack> UnexpectedAcks { get; } = new();

    /// <summary>A unary client on one of the adapter's addresses.</summary>
    public ChannelService.ChannelServiceClient UnaryClient(string address) => ChannelClient.Create(_channels[address], ChannelName);

    /// <summary>The current connection, or a new one to the next address once it broke.</summary>
    public async Task<AdapterConnection> LiveConnectionAsync(CancellationToken cancellationToken)
    {
        var current = Current;
        if (!current.IsBroken)
        {
            return current;
        }

        await _reconnect.WaitAsync(cancellationToken);
        try
        {
            if (!_current.IsBroken)
            {
                return _current;
            }

            Events.Enqueue($"{Now.TotalSeconds:0.000}s connection {_current.Generation} to {_current.Address} broke: {_current.Broken.Result}");
            await Task.Delay(ReconnectPause, cancellationToken);
            _addressIndex = (_addressIndex + 1) % _addresses.Count;
            var next = Open(_current.Generation + 1);
            Volatile.Write(ref _current, next);
            return next;
        }
        finally
        {
            _reconnect.Release();
        }
    }

    /// <summary>Sequences received for a conversation, over all connections, in arrival order.</summary>
    public IReadOnlyList<long> Received(string conversationId)
    {
        lock (_lock)
        {
            return _received.TryGetValue(conversationId, out var sequences) ? [.. sequences] : [];
        }
    }

    /// <summary>The last sequence received for a conversation (0: none): where a resume starts.</summary>
    public long LastReceived(string conversationId)
    {
        lock (_lock)
        {
            return _received.TryGetValue(conversationId, out var sequences) && sequences.Count > 0 ? sequences[^1] : 0;
        }
    }

    private AdapterConnection Open(int generation)
    {
        var address = _addresses[_addressIndex];
        var connection = new AdapterConnection(generation, address, UnaryClient(address), OnEntry, OnUnexpectedAck);
        lock (_lock)
        {
            _connections.Add(connection);
        }

        Events.Enqueue($"{Now.TotalSeconds:0.000}s connection {generation} opened to {address}");
        return connection;
    }

    private void OnEntry(AdapterConnection connection, TimelineEntry entry)
    {
        lock (_lock)
        {
            if (!_received.TryGetValue(entry.ConversationId, out var sequences))
            {
                _received[entry.ConversationId] = sequences = [];
            }

            sequences.Add((long)entry.Sequence);
        }
    }

    private void OnUnexpectedAck(AdapterConnection connection, Ack ack) => UnexpectedAcks.Enqueue(ack);

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in Connections)
        {
            await connection.DisposeAsync();
        }

        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
