using ContactGrains.Client;
using ContactGrains.Protos.V1;
using ContactGrains.Silo.Security;
using Grpc.Core;
using Microsoft.Extensions.Configuration;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// A silo configured as in production: channel keys stored as hashes, its own signing key, no
/// development credentials. The keys and tokens come from the silo's own <c>key</c> and
/// <c>token</c> commands, as an operator would make them.
/// </summary>
public sealed class ConfiguredCredentialsTests(ConfiguredCredentialsTests.Fixture silo) : IClassFixture<ConfiguredCredentialsTests.Fixture>
{
    [Fact]
    public async Task The_key_the_key_command_printed_calls_as_its_channel()
    {
        var client = ChannelClient.Create(silo.Channel, "sms", silo.SmsKey);

        var sent = await client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = "m1", Conversation = Addresses.Thread(Addresses.Unique("t")), Customer = Addresses.Customer("c"), Text = "where is my refund?" },
        });
        var view = await client.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(sent.Ack.ConversationId) });

        Assert.Equal(AckStatus.Accepted, sent.Ack.Status);
        Assert.Equal("sms", view.Channel);
    }

    [Fact]
    public async Task Development_keys_and_tokens_are_refused()
    {
        var channel = ChannelClient.Create(silo.Channel, "sms");
        var agent = AgentClient.Create(silo.Channel, "ann");

        var keyError = await Assert.ThrowsAsync<RpcException>(() => channel.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation("x") }).ResponseAsync);
        var tokenError = await Assert.ThrowsAsync<RpcException>(() => agent.GetStatusAsync(new GetStatusRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, keyError.StatusCode);
        Assert.Equal("The API key is not valid: it is unknown to this cluster or was revoked.", keyError.Status.Detail);
        Assert.Equal(StatusCode.Unauthenticated, tokenError.StatusCode);
        Assert.Equal("The bearer token's signature is not valid: it was not issued with this cluster's signing key.", tokenError.Status.Detail);
    }

    [Fact]
    public async Task A_token_from_the_token_command_signs_the_agent_in()
    {
        var token = silo.IssueToken("ann", "--name", "Ann");
        await using var desk = await TestDesk.ConnectAsync(silo, "ann", TestDesk.Profile("Ann", "general:3", "en"), token);

        Assert.Equal(Presence.Available, desk.LastStatus!.Presence);
    }

    [Fact]
    public async Task What_a_desktop_declares_is_ignored_the_directory_decides()
    {
        // Ann is seeded as general:4, en; her desktop claims billing:5 and French.
        await using var desk = await TestDesk.ConnectAsync(silo, "ann", TestDesk.Profile("Ann the Great", "billing:5", "fr"), silo.IssueToken("ann"));

        var entry = await AgentClient.Create(silo.Channel, "ann", silo.IssueToken("ann")).GetAgentProfileAsync(new GetAgentProfileRequest());

        Assert.Equal("Ann", entry.Profile.DisplayName);
        Assert.Equal([("general", 4u)], entry.Profile.Skills.Select(s => (s.Skill, s.Proficiency)));
        Assert.Equal(["en"], entry.Profile.Languages);
    }

    [Fact]
    public async Task An_agent_the_directory_does_not_know_cannot_sign_in_until_a_supervisor_adds_them()
    {
        var agentId = Addresses.Unique("dan");
        var declared = TestDesk.Profile("Dan", "billing:5", "en");

        var refused = await Assert.ThrowsAsync<ConnectionFailedException>(() => TestDesk.ConnectAsync(silo, agentId, declared, silo.IssueToken(agentId)));
        Assert.Equal(StatusCode.FailedPrecondition, refused.Status.StatusCode);
        Assert.Equal($"Agent '{agentId}' is not in the agent directory: a supervisor adds them (SetAgentProfile), or ContactGrains:AgentDirectory lists them.", refused.Status.Detail);

        // An agent cannot add themselves; a supervisor can.
        var request = new SetAgentProfileRequest { AgentId = agentId, Profile = TestDesk.Profile("Dan", "billing:2", "en") };
        var selfService = await Assert.ThrowsAsync<RpcException>(() => AgentClient.Create(silo.Channel, agentId, silo.IssueToken(agentId)).SetAgentProfileAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, selfService.StatusCode);
        Assert.Equal($"This call needs the 'supervisor' role; the token of '{agentId}' does not have it.", selfService.Status.Detail);
        var supervisor = AgentClient.Create(silo.Channel, "sam", silo.IssueToken("sam", "--role", "supervisor"));
        var set = await supervisor.SetAgentProfileAsync(request);
        Assert.Equal(2u, set.Profile.Skills.Single().Proficiency);

        await using var desk = await TestDesk.ConnectAsync(silo, agentId, declared, silo.IssueToken(agentId));
        Assert.Equal(Presence.Available, desk.LastStatus!.Presence);
        var entry = await supervisor.GetAgentProfileAsync(new GetAgentProfileRequest { AgentId = agentId });
        Assert.Equal([("billing", 2u)], entry.Profile.Skills.Select(s => (s.Skill, s.Proficiency)));
    }

    [Fact]
    public async Task An_agent_cannot_read_another_agents_directory_entry()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => AgentClient.Create(silo.Channel, "eve", silo.IssueToken("eve"))
            .GetAgentProfileAsync(new GetAgentProfileRequest { AgentId = "ann" }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public void The_commands_refuse_what_they_cannot_do()
    {
        var errors = new StringWriter();

        Assert.Equal(2, CredentialCommands.Run(["key", "channel", "Web Chat"], silo.Configuration, TextWriter.Null, errors));
        Assert.Equal(2, CredentialCommands.Run(["token", "ann", "--role", "admin"], silo.Configuration, TextWriter.Null, errors));
        Assert.Equal(2, CredentialCommands.Run(["token", "ann", "--hours", "8760"], silo.Configuration, TextWriter.Null, errors));
        Assert.Equal(2, CredentialCommands.Run(["token", "ann smith"], silo.Configuration, TextWriter.Null, errors));
        Assert.Equal(2, CredentialCommands.Run(["token", "ann"], new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContactGrains:Storage:Provider"] = "PostgreSql",
        }).Build(), TextWriter.Null, errors));

        Assert.Contains("error: a channel is 1 to 32 characters from a-z, 0-9, '-' and '_'.", errors.ToString(), StringComparison.Ordinal);
        Assert.Contains("error: no signing key: set ContactGrains:Auth:SigningKey (as the silos have it).", errors.ToString(), StringComparison.Ordinal);
    }

    public sealed class Fixture : SiloFixture
    {
        public Fixture()
        {
            var output = new StringWriter();
            CredentialCommands.Run(["key", "channel", "sms"], new ConfigurationBuilder().Build(), output, TextWriter.Null);
            var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries);
            SmsKey = lines[1];
            SmsKeyHash = lines.Single(l => l.StartsWith("ContactGrains__Auth__Channels__N__KeySha256=", StringComparison.Ordinal)).Split('=')[1];

            output = new StringWriter();
            CredentialCommands.Run(["key", "signing"], new ConfigurationBuilder().Build(), output, TextWriter.Null);
            SigningKey = output.ToString().Split('\n', StringSplitOptions.TrimEntries)[1];
            Configuration = new ConfigurationBuilder().AddInMemoryCollection(ExtraSettings).Build();
        }

        public string SmsKey { get; }

        public IConfiguration Configuration { get; }

        private string SmsKeyHash { get; }

        private string SigningKey { get; }

        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [
            new("ContactGrains:Auth:Channels:0:Channel", "sms"),
            new("ContactGrains:Auth:Channels:0:KeySha256", SmsKeyHash),
            new("ContactGrains:Auth:SigningKey", SigningKey),
            // The agent directory's seed: Ann may serve general questions in English.
            new("ContactGrains:AgentDirectory:ann:DisplayName", "Ann"),
            new("ContactGrains:AgentDirectory:ann:Skills:general", "4"),
            new("ContactGrains:AgentDirectory:ann:Languages:0", "en"),
        ];

        public string IssueToken(string agentId, params string[] options)
        {
            var output = new StringWriter();
            Assert.Equal(0, CredentialCommands.Run(["token", agentId, .. options], Configuration, output, TextWriter.Null));
            return output.ToString().Trim();
        }
    }
}
