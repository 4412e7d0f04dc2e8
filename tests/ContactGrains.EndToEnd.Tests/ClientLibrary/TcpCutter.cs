using System.Net;
using System.Net.Sockets;

namespace ContactGrains.EndToEnd.Tests.ClientLibrary;

/// <summary>
/// A loopback TCP relay in front of a silo that a test can cut: every open connection is reset at
/// once, as when a network path or a load balancer drops, while the silo and its state live on.
/// </summary>
internal sealed class TcpCutter : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(TcpClient Client, TcpClient Upstream)> _pairs = [];
    private readonly Task _accepting;

    public TcpCutter(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The relay's address, to give the client instead of the silo's.</summary>
    public string Address => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Connections accepted so far.</summary>
    public int Accepted { get; private set; }

    /// <summary>Resets every connection open now; new ones are relayed again.</summary>
    public void Cut()
    {
        lock (_lock)
        {
            foreach (var (client, upstream) in _pairs)
            {
                client.Client.LingerState = new LingerOption(true, 0); // RST, not a polite FIN
                client.Close();
                upstream.Close();
            }

            _pairs.Clear();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(_target, _stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                client.Close();
                upstream.Dispose();
                continue;
            }

            lock (_lock)
            {
                Accepted++;
                _pairs.Add((client, upstream));
            }

            _ = PipeAsync(client.GetStream(), upstream.GetStream());
            _ = PipeAsync(upstream.GetStream(), client.GetStream());
        }
    }

    private async Task PipeAsync(NetworkStream from, NetworkStream to)
    {
        try
        {
            await from.CopyToAsync(to, _stop.Token);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            // Cut or stopped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        await _accepting;
    }
}
