using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Client;

/// <summary>Helpers for callers of the channel API.</summary>
public static class ChannelClient
{
    /// <summary>The request header that names the calling adapter's channel.</summary>
    public const string ChannelHeader = "contactgrains-channel";

    /// <summary>
    /// Creates a channel API client over <paramref name="grpcChannel"/> that
    /// identifies itself as <paramref name="channelName"/> on every call.
    /// </summary>
    public static ChannelService.ChannelServiceClient Create(GrpcChannel grpcChannel, string channelName)
    {
        return new ChannelService.ChannelServiceClient(WithHeader(grpcChannel, ChannelHeader, channelName));
    }

    /// <summary>A call invoker that sends <paramref name="header"/> with every call: who is calling travels with the connection.</summary>
    internal static CallInvoker WithHeader(GrpcChannel grpcChannel, string header, string value)
    {
        ArgumentNullException.ThrowIfNull(grpcChannel);
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        return grpcChannel.Intercept(metadata =>
        {
            metadata.Add(header, value);
            return metadata;
        });
    }

    /// <summary>Opens a gRPC channel to a ContactGrains silo over HTTP/2 (cleartext for http:// addresses).</summary>
    public static GrpcChannel OpenChannel(string address) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            },
        });
}
