using System.Collections.Concurrent;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using ContactGrains.WebChat.Hosting;
using Microsoft.Extensions.Options;

namespace ContactGrains.WebChat.Cluster;

/// <summary>
/// The web chat's one <see cref="ChannelConnection"/> to the cluster, shared by every browser. The
/// connection reconnects and resumes by itself; should it ever give up (a refusal, or attempts
/// exhausted), the next caller gets a new one, and the event streams resume on it from the last
/// entry they sent, so a long outage heals without a restart.
/// </summary>
public sealed class ClusterLink : IAsyncDisposable
{
    private readonly WebChatOptions _options;
    private readonly ILogger<ClusterLink> _logger;
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, Task<MessageAck>> _sending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private ChannelConnection? _connection;
    private bool _failed;
    private bool _disposed;

    /// <summary>Creates the link; the connection opens on first use.</summary>
    public ClusterLink(IOptions<WebChatOptions> options, ILogger<ClusterLink> logger)
    {
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The connection in use, opened (again) if there is none or the last one gave up.</summary>
    public ChannelConnection Connection
    {
        get
        {
            ChannelConnection? failed = null;
            ChannelConnection current;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_connection is null || _failed)
                {
                    failed = _connection;
                    _failed = false;
                    _connection = Open();
                }

                current = _connection;
            }

            if (failed is not null)
            {
                _ = failed.DisposeAsync().AsTask(); // already stopped: this only releases its channels
            }

            return current;
        }
    }

    /// <summary>
    /// Sends one customer message and waits for its ack. A second send of the same id while the first
    /// still waits (the page retried a POST whose answer it did not get) waits for the same ack
    /// instead of failing. The send goes on if the caller stops waiting: what the customer typed is stored.
    /// </summary>
    public Task<MessageAck> SendAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        var send = _sending.GetOrAdd(message.MessageId, _ => SendOnceAsync(message));
        return send.WaitAsync(cancellationToken);
    }

    /// <summary>Closes the connection; pending sends fail and event streams end.</summary>
    public async ValueTask DisposeAsync()
    {
        ChannelConnection? connection;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            connection = _connection;
        }

        await _stopping.CancelAsync();
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task<MessageAck> SendOnceAsync(InboundMessage message)
    {
        try
        {
            await Task.Yield(); // out of GetOrAdd before anything can finish and remove the entry
            return await Connection.SendAsync(message, _stopping.Token);
        }
        finally
        {
            _sending.TryRemove(message.MessageId, out _);
        }
    }

    private ChannelConnection Open()
    {
        ChannelConnection? self = null;
        var connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = _options.Channel,
            ApiKey = string.IsNullOrEmpty(_options.ApiKey) ? null : _options.ApiKey,
            Addresses = _options.Silos,

            // One connection serves every visitor: it keeps trying (up to 5 s apart) rather than give
            // up after the default 20 s; a silo that is down for minutes must not need a restart here.
            Reconnect = new ReconnectPolicy { MaxAttempts = int.MaxValue, MaxDelay = TimeSpan.FromSeconds(5) },
            OnStateChange = change => OnStateChange(change, self),
        });
        self = connection;
        _logger.LogInformation("Connecting to the cluster as channel '{Channel}' at {Silos}.", _options.Channel, string.Join(", ", _options.Silos));
        return connection;
    }

    private void OnStateChange(ConnectionStateChange change, ChannelConnection? connection)
    {
        switch (change.State)
        {
            case ConnectionState.Connected:
                _logger.LogInformation("Channel stream open to {Address}.", change.Address);
                break;
            case ConnectionState.Reconnecting:
                _logger.LogWarning(
                    "Channel stream to the cluster broke ({Status}); attempt {Attempt} next, to {Address}.",
                    change.Status?.StatusCode, change.Attempt, change.Address);
                break;
            case ConnectionState.Failed:
                _logger.LogError("The channel connection gave up: {Status} {Detail}. A new one opens on the next use.", change.Status?.StatusCode, change.Status?.Detail);
                lock (_lock)
                {
                    // Only the connection in use: an old one reporting late must not replace its successor.
                    _failed |= connection is null || ReferenceEquals(connection, _connection);
                }

                break;
        }
    }
}
