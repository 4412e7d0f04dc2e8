using Grpc.Net.Client;

namespace ContactGrains.Client;

/// <summary>
/// The silos a connection may use, one client each, and which one is in use: a connection moves to
/// the next after a broken stream. Owns the gRPC channels it opened itself, not those it was given.
/// </summary>
/// <typeparam name="TClient">The raw gRPC client, already carrying the caller's identity.</typeparam>
internal sealed class SiloEndpoints<TClient> : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly string[] _addresses;
    private readonly TClient[] _clients;
    private readonly bool _ownsChannels;
    private int _index;

    public SiloEndpoints(IReadOnlyList<string> addresses, IReadOnlyList<GrpcChannel>? channels, Func<GrpcChannel, TClient> createClient)
    {
        if (channels is { Count: > 0 })
        {
            _channels = [.. channels];
            _addresses = [.. channels.Select(channel => channel.Target)];
        }
        else if (addresses.Count > 0)
        {
            _channels = [.. addresses.Select(ChannelClient.OpenChannel)];
            _addresses = [.. addresses];
            _ownsChannels = true;
        }
        else
        {
            throw new ArgumentException("Give at least one silo address (Addresses) or gRPC channel (GrpcChannels).", nameof(addresses));
        }

        _clients = [.. _channels.Select(createClient)];
    }

    /// <summary>The position of the silo in use.</summary>
    public int Index => Volatile.Read(ref _index);

    /// <summary>The address of the silo in use, as configured.</summary>
    public string Current => _addresses[Index];

    /// <summary>The client of the silo in use.</summary>
    public TClient Client => _clients[Index];

    /// <summary>The address at a position, for messages about an attempt made there.</summary>
    public string AddressAt(int index) => _addresses[index];

    /// <summary>The client at a position.</summary>
    public TClient ClientAt(int index) => _clients[index];

    /// <summary>Moves to the silo after the one at <paramref name="from"/>.</summary>
    public void MoveNext(int from) => Volatile.Write(ref _index, (from + 1) % _clients.Length);

    public void Dispose()
    {
        if (_ownsChannels)
        {
            foreach (var channel in _channels)
            {
                channel.Dispose();
            }
        }
    }
}
