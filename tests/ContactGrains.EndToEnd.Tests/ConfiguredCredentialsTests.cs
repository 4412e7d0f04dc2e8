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
    public void The_commands_refuse_what_they_cannot_do()
    {
        var errors = new StringWriter();

        Assert.Equal(2, CredentialCommands.Run(["key", "channel", "Web Chat"], silo.Configuration, TextWriter.Null, errors));
        Assert.Equal(2, CredentialCommands.Run(["token", "ann", "--role", "admin"], silo.Configuration, TextWriter.Null, errors));
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
            SmsKeyHash = lines.Single(l => l.StartsWith("ContactGrains__Auth__Channels__0__KeySha256=", StringComparison.Ordinal)).Split('=')[1];

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
        ];

        public string IssueToken(string agentId, params string[] options)
        {
            var output = new StringWriter();
            Assert.Equal(0, CredentialCommands.Run(["token", agentId, .. options], Configuration, output, TextWriter.Null));
            return output.ToString().Trim();
        }
    }
}
