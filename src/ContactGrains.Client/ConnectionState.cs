using Grpc.Core;

namespace ContactGrains.Client;

/// <summary>Where a <see cref="ChannelConnection"/> or <see cref="AgentConnection"/> stands.</summary>
public enum ConnectionState
{
    /// <summary>Opening a stream (the first, or another after one broke).</summary>
    Connecting,

    /// <summary>A stream is open and has heard from the server.</summary>
    Connected,

    /// <summary>The stream broke; waiting before the next attempt.</summary>
    Reconnecting,

    /// <summary>Gave up: the server refused, or every attempt failed. <see cref="ConnectionStateChange.Status"/> says why.</summary>
    Failed,

    /// <summary>Disposed by its owner.</summary>
    Closed,
}

/// <summary>One change of a connection's state, for logs and status displays.</summary>
/// <param name="State">The new state.</param>
/// <param name="Address">The server address the connection uses (or will use next).</param>
/// <param name="Attempt">Attempts in a row without hearing from a server (0 once connected).</param>
/// <param name="Status">Why the last stream ended, when one did.</param>
public sealed record ConnectionStateChange(ConnectionState State, string Address, int Attempt, Status? Status);

/// <summary>
/// A connection gave up: the server refused it (e.g. a missing or invalid identity), or it could not
/// reach any server within its <see cref="ReconnectPolicy"/>. Everything waiting on it fails with this.
/// </summary>
public sealed class ConnectionFailedException : Exception
{
    /// <summary>Creates the exception for a stream that ended with <paramref name="status"/>.</summary>
    public ConnectionFailedException(string message, Status status)
        : base(message, new RpcException(status))
    {
        Status = status;
    }

    /// <summary>How the last stream ended.</summary>
    public Status Status { get; }

    /// <summary>Statuses after which trying again can help: the server or the network was down, or the stream was cut.</summary>
    internal static bool IsTransient(StatusCode code) => code is
        StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.DeadlineExceeded
        or StatusCode.ResourceExhausted or StatusCode.OK;
}
