using System.Collections.Concurrent;
using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// A channel adapter as a real one is written: one <see cref="ChannelConnection"/> that knows every
/// silo. The library does the protocol (acks, resume after a reconnect, resend of what was not
/// acknowledged, reconnect to the next address with backoff); this class only records what it
/// reports: its state changes, stamped with <see cref="Now"/>, and every entry its
/// <see cref="ChannelConnection.ReadAllAsync"/> reader gets, filed per conversation in the order read.
/// </summary>
internal sealed class TestAdapter : IAsyncDisposable
{
    public const string ChannelName = "webchat";

    /// <summary>
    /// Sized for a silo kill: the next address is tried at once (about 0.1 s), and attempts go on
    /// for well over half a minute (20, up to 2 s apart) before the adapter gives up.
    /// </summary>
    public static readonly ReconnectPolicy SiloKillPolicy = new()
    {
        MaxAttempts = 20,
        InitialDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(2),
    };

    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<long>> _received = new(StringComparer.Ordinal);
    private readonly List<(TimeSpan At, ConnectionStateChange Change)> _states = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stopReading = new();
    private readonly Task _reader;
    private Exception? _readerFailure;
    private int _epoch;

    /// <param name="addresses">Every silo; the connection starts on <paramref name="firstAddress"/> and moves to the next after a broken stream.</param>
    /// <param name="firstAddress">The index of the silo to start on.</param>
    public TestAdapter(IReadOnlyList<string> addresses, int firstAddress = 0)
    {
        Connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = ChannelName,
            Addresses = [.. addresses.Skip(firstAddress), .. addresses.Take(firstAddress)],
            Reconnect = SiloKillPolicy,

            // Every ack reaches the driver, a retryable refusal too: the tests count and time them,
            // and the driver sends the same id again (see ConversationDriver).
            SendAttempts = 1,
            ReadBufferCapacity = 8192,
            OnStateChange = OnStateChange,
        });

        // Subscribes before returning (an async method runs synchronously up to its first pending
        // await, and the reader registers on its first MoveNextAsync): no entry is sent before it.
        _reader = ReadAsync();
    }

    public ChannelConnection Connection { get; }

    /// <summary>Time since the adapter started; every event is stamped with it.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>A phase number the test advances (before a kill, after it, …); messages remember the epoch they were first sent in.</summary>
    public int Epoch
    {
        get => Volatile.Read(ref _epoch);
        set => Volatile.Write(ref _epoch, value);
    }

    /// <summary>What happened to the adapter's connection, stamped with <see cref="Now"/>.</summary>
    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>Every state change the connection reported, oldest first.</summary>
    public IReadOnlyList<(TimeSpan At, ConnectionStateChange Change)> StateChanges
    {
        get
        {
            lock (_lock)
            {
                return [.. _states];
            }
        }
    }

    /// <summary>Every stream the silos accepted (a Connected state), oldest first: 1 until the first reconnection.</summary>
    public IReadOnlyList<(TimeSpan At, ConnectionStateChange Change)> Connections =>
        [.. StateChanges.Where(s => s.Change.State == ConnectionState.Connected)];

    /// <summary>Streams accepted so far.</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_lock)
            {
                return _states.Count(s => s.Change.State == ConnectionState.Connected);
            }
        }
    }

    /// <summary>The reader's exception, if it ended with one (the connection failed): null while all is well.</summary>
    public Exception? ReaderFailure => Volatile.Read(ref _readerFailure);

    /// <summary>Sequences read for a conversation, over all streams, in the order read.</summary>
    public IReadOnlyList<long> Received(string conversationId)
    {
        lock (_lock)
        {
            return _received.TryGetValue(conversationId, out var sequences) ? [.. sequences] : [];
        }
    }

    /// <summary>The last sequence read for a conversation (0: none).</summary>
    public long LastReceived(string conversationId)
    {
        lock (_lock)
        {
            return _received.TryGetValue(conversationId, out var sequences) && sequences.Count > 0 ? sequences[^1] : 0;
        }
    }

    /// <summary>Whether a connection address (as <see cref="ConnectionStateChange.Address"/> gives it) is this silo's.</summary>
    public static bool IsAddressOf(string connectionAddress, SiloProcess silo) =>
        string.Equals(Authority(connectionAddress), Authority(silo.Address), StringComparison.OrdinalIgnoreCase);

    private static string Authority(string address) => address.Contains("://", StringComparison.Ordinal) ? new Uri(address).Authority : address;

    private void OnStateChange(ConnectionStateChange change)
    {
        var at = Now;
        lock (_lock)
        {
            _states.Add((at, change));
        }

        var why = change.Status is { } status ? $" ({status.StatusCode}: {status.Detail})" : "";
        Events.Enqueue($"{at.TotalSeconds:0.000}s {change.State} {change.Address}{(change.Attempt > 0 ? $" attempt {change.Attempt}" : "")}{why}");
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var entry in Connection.ReadAllAsync(_stopReading.Token))
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
        }
        catch (OperationCanceledException) when (_stopReading.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _readerFailure, ex);
            Events.Enqueue($"{Now.TotalSeconds:0.000}s the reader failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopReading.CancelAsync();
        await Connection.DisposeAsync();
        await _reader;
        _stopReading.Dispose();
    }
}
