using System.Net;
using System.Net.Sockets;

namespace ContactGrains.Testing;

public static class FreePorts
{
    // Below Linux's ephemeral range (32768–60999 by default): no outgoing connection (a silo's to
    // another silo or to PostgreSQL) is ever given one of these as its local port. A port asked of
    // the system with bind-to-0 is from that range, and was sometimes taken by such a connection
    // between being chosen here and a silo process binding it ("address already in use").
    private const int First = 20_000;
    private const int Last = 32_000;
    private static readonly HashSet<int> Given = [];
    private static readonly Lock Lock = new();

    /// <summary>A loopback TCP port that was free a moment ago, never handed out before by this process.</summary>
    public static int Next()
    {
        lock (Lock)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(First, Last);
                if (Given.Contains(port))
                {
                    continue;
                }

                try
                {
                    using var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                }
                catch (SocketException)
                {
                    continue;
                }

                Given.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException($"No free loopback port between {First} and {Last} after 1,000 tries.");
    }
}
