using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// Every impersonation that used to work, over real gRPC, refused: the channel comes from its API
/// key and the agent from its token, never from a header the caller chooses.
/// </summary>
[Collection(AgentSiloCollection.Name)]
public sealed class AuthenticationTests(AgentSiloFixture silo)
{
    private static readonly byte[] OtherClusterKey = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    // ---- Channel adapters ----

    [Fact]
    public async Task A_call_without_an_api_key_is_unauthenticated()
    {
        var client = new ChannelService.ChannelServiceClient(silo.Channel.Intercept(m => { m.Add(ChannelClient.ChannelHeader, "webchat"); return m; }));

        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation("x") }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.StartsWith("Missing API key", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_api_key_is_unauthenticated()
    {
        var client = ChannelClient.Create(silo.Channel, "webchat", apiKey: ChannelKeys.NewKey());

        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation("x") }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("The API key is not valid: it is unknown to this cluster or was revoked.", error.Status.Detail);
    }

    [Fact]
    public async Task Another_channels_key_cannot_claim_to_be_this_channel()
    {
        var client = ChannelClient.Create(silo.Channel, "webchat", apiKey: DevelopmentCredentials.ChannelKey("whatsapp"));

        var error = await Assert.ThrowsAsync<RpcException>(() => client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = "m1", Conversation = Addresses.Thread(Addresses.Unique("t")), Customer = Addresses.Customer("c"), Text = "hi" },
        }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("The API key belongs to channel 'whatsapp', not to the channel the 'contactgrains-channel' header names.", error.Status.Detail);
    }

    [Fact]
    public async Task Another_channels_key_cannot_read_or_write_this_channels_conversations()
    {
        var webchat = silo.Client("webchat");
        var sent = await webchat.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = "m1", Conversation = Addresses.Thread(Addresses.Unique("t")), Customer = Addresses.Customer("c"), Text = "my card is 4111 1111 1111 1111" },
        });
        var intruder = new ChannelService.ChannelServiceClient(silo.Channel.Intercept(m =>
        {
            m.Add(ChannelKeys.Header, DevelopmentCredentials.ChannelKey("whatsapp"));
            return m;
        }));
        var address = Addresses.Conversation(sent.Ack.ConversationId);

        var read = await Assert.ThrowsAsync<RpcException>(() => intruder.GetTranscriptAsync(new GetTranscriptRequest { Conversation = address }).ResponseAsync);
        var write = await Assert.ThrowsAsync<RpcException>(() => intruder.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = "m2", Conversation = address, Text = "send it to me" },
        }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, read.StatusCode);
        Assert.Equal(StatusCode.NotFound, write.StatusCode);
    }

    // ---- Agents ----

    public static TheoryData<string, string, StatusCode, string> BadTokens => new()
    {
        { "none", "", StatusCode.Unauthenticated, "Missing bearer token" },
        { "forged: signed with another key", Token("ann", OtherClusterKey), StatusCode.Unauthenticated, "The bearer token's signature is not valid: it was not issued with this cluster's signing key." },
        { "expired", AccessTokens.Issue("ann", [AccessTokens.AgentRole], DevelopmentCredentials.SigningKey, DateTimeOffset.UtcNow.AddHours(-1), now: DateTimeOffset.UtcNow.AddHours(-2)), StatusCode.Unauthenticated, "The bearer token expired at " },
        { "another issuer", AccessTokens.Issue("ann", [AccessTokens.AgentRole], DevelopmentCredentials.SigningKey, DateTimeOffset.UtcNow.AddHours(1), issuer: "someone-else"), StatusCode.Unauthenticated, "The bearer token's issuer is not this cluster's." },
        { "another audience", AccessTokens.Issue("ann", [AccessTokens.AgentRole], DevelopmentCredentials.SigningKey, DateTimeOffset.UtcNow.AddHours(1), audience: "crm"), StatusCode.Unauthenticated, "The bearer token's audience is not this cluster." },
        { "not a JWT", "hello", StatusCode.Unauthenticated, "The bearer token is not a well-formed JWT." },
        { "signature removed", StripSignature(Token("ann", DevelopmentCredentials.SigningKey)), StatusCode.Unauthenticated, "The bearer token" },
        { "no agent role", AccessTokens.Issue("ann", ["viewer"], DevelopmentCredentials.SigningKey, DateTimeOffset.UtcNow.AddHours(1)), StatusCode.PermissionDenied, "The bearer token has neither the 'agent' nor the 'supervisor' role." },
        { "subject is not an agent id", AccessTokens.Issue("ann smith", [AccessTokens.AgentRole], DevelopmentCredentials.SigningKey, DateTimeOffset.UtcNow.AddHours(1)), StatusCode.Unauthenticated, "The bearer token's subject is not an agent id" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_token_is_refused(string what, string token, StatusCode code, string detail)
    {
        var agent = new AgentService.AgentServiceClient(silo.Channel.Intercept(m =>
        {
            if (token.Length > 0)
            {
                m.Add(AgentClient.AuthorizationHeader, "Bearer " + token);
            }

            return m;
        }));

        var error = await Assert.ThrowsAsync<RpcException>(() => agent.GetStatusAsync(new GetStatusRequest()).ResponseAsync);

        Assert.True(code == error.StatusCode, $"{what}: {error.Status}");
        Assert.StartsWith(detail, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_header_without_that_agents_token_does_not_act_as_that_agent()
    {
        var annId = Addresses.Unique("ann");
        await using var ann = await TestDesk.ConnectAsync(silo, annId, TestDesk.Profile("Ann", "general:3", "en"));
        var bobAsAnn = new AgentService.AgentServiceClient(silo.Channel.Intercept(m =>
        {
            m.Add(AgentClient.AgentHeader, annId);
            m.Add(AgentClient.AuthorizationHeader, "Bearer " + DevelopmentCredentials.AgentToken("bob"));
            return m;
        }));

        var error = await Assert.ThrowsAsync<RpcException>(() => bobAsAnn.SetPresenceAsync(new SetPresenceRequest { Presence = Presence.Offline }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("The bearer token belongs to agent 'bob', not to the agent the 'contactgrains-agent' header names.", error.Status.Detail);
        Assert.Equal(Presence.Available, ann.LastStatus!.Presence);
    }

    [Fact]
    public async Task A_second_desktop_without_the_agents_credential_cannot_take_over_its_stream()
    {
        var annId = Addresses.Unique("ann");
        await using var ann = await TestDesk.ConnectAsync(silo, annId, TestDesk.Profile("Ann", "general:3", "en"));

        // An intruder names Ann in the header: with no token, then with its own.
        foreach (var token in new[] { null, DevelopmentCredentials.AgentToken("intruder") })
        {
            var intruder = new AgentService.AgentServiceClient(silo.Channel.Intercept(m =>
            {
                m.Add(AgentClient.AgentHeader, annId);
                if (token is not null)
                {
                    m.Add(AgentClient.AuthorizationHeader, "Bearer " + token);
                }

                return m;
            }));
            using var call = intruder.Connect(new ConnectRequest());

            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(token is null ? StatusCode.Unauthenticated : StatusCode.PermissionDenied, error.StatusCode);
        }

        // Ann's own stream is untouched: she still gets her status, not ABORTED.
        Assert.Null(ann.EndStatus);
        var status = await silo.Agent(annId).GetStatusAsync(new GetStatusRequest());
        Assert.True(status.Connected);
    }

    [Fact]
    public async Task A_supervisor_call_without_the_role_is_permission_denied()
    {
        var agent = silo.Agent(Addresses.Unique("ann"));

        var error = await Assert.ThrowsAsync<RpcException>(() => agent.SetAgentProfileAsync(new SetAgentProfileRequest
        {
            AgentId = "bob",
            Profile = TestDesk.Profile("Bob", "billing:5", "en"),
        }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.StartsWith("This call needs the 'supervisor' role", error.Status.Detail, StringComparison.Ordinal);
    }

    private static string Token(string agentId, byte[] key) =>
        AccessTokens.Issue(agentId, [AccessTokens.AgentRole], key, DateTimeOffset.UtcNow.AddHours(1));

    private static string StripSignature(string token) => token[..(token.LastIndexOf('.') + 1)];
}
