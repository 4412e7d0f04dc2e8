using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Client;

/// <summary>Helpers for callers of the channel API.</summary>
public static class ChannelClient
{
    /// <summary>
    /// The request header that names the calling adapter's channel. The silo takes the channel from
    /// the API key; when this header is sent too, it must name the key's channel.
    /// </summary>
    public const string ChannelHeader = "contactgrains-channel";

    /// <summary>
    /// Creates a channel API client over <paramref name="grpcChannel"/> that calls as channel
    /// <paramref name="channelName"/> with its API key (<see cref="ChannelKeys.Header"/>). Without a
    /// key it uses the channel's development key, which only a development silo accepts.
    /// </summary>
    public static ChannelService.ChannelServiceClient Create(GrpcChannel grpcChannel, string channelName, string? apiKey = null) =>
        new(WithHeaders(grpcChannel,
            (ChannelHeader, channelName),
            (ChannelKeys.Header, apiKey ?? DevelopmentCredentials.ChannelKey(channelName))));

    /// <summary>A call invoker that sends <paramref name="headers"/> with every call: who is calling travels with the connection.</summary>
    internal static CallInvoker WithHeaders(GrpcChannel grpcChannel, params (string Name, string Value)[] headers)
    {
        ArgumentNullException.ThrowIfNull(grpcChannel);
        foreach (var (name, value) in headers)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value, name);
        }

        return grpcChannel.Intercept(metadata =>
        {
            foreach (var (name, value) in headers)
            {
                metadata.Add(name, value);
            }

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
