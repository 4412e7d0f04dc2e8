using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.WebChat.Tests.Hosts;

/// <summary>A human agent at their desktop, through the client library's <see cref="AgentConnection"/>.</summary>
public sealed class TestAgent : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private TestAgent(AgentConnection connection) => Connection = connection;

    public AgentConnection Connection { get; }

    /// <summary>Signs in a new agent (a unique id, the given name) who serves every skill in English and French, and sets them available.</summary>
    public static async Task<TestAgent> SignInAsync(string siloAddress, string displayName)
    {
        var profile = new AgentProfile { DisplayName = displayName, Languages = { "en", "fr" } };
        foreach (var skill in new[] { "general", "billing", "delivery", "orders", "payments", "account", "security" })
        {
            profile.Skills.Add(new SkillLevel { Skill = skill, Proficiency = 4 });
        }

        var connection = await AgentConnection.ConnectAsync(new AgentConnectionOptions
        {
            AgentId = $"{displayName.ToLowerInvariant()}-{Guid.NewGuid():N}"[..24],
            Profile = profile,
            Addresses = [siloAddress],
        });
        await connection.SetPresenceAsync(Presence.Available);
        return new TestAgent(connection);
    }

    /// <summary>Waits for the offer of <paramref name="conversationId"/> (other tests' waiting conversations may be offered too) and accepts it.</summary>
    public async Task<Offer> AcceptOfferForAsync(string conversationId)
    {
        using var timeout = new CancellationTokenSource(Patience);
        Offer? offer = null;
        try
        {
            await foreach (var desk in Connection.ReadEventsAsync(timeout.Token))
            {
                offer = desk switch
                {
                    AgentDeskEvent.OfferReceived received when received.Offer.Context.ConversationId == conversationId => received.Offer,
                    AgentDeskEvent.Synced synced => synced.Sync.Offers.FirstOrDefault(o => o.Context.ConversationId == conversationId),
                    _ => null,
                };
                if (offer is not null)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
        }

        if (offer is null)
        {
            throw new Xunit.Sdk.XunitException($"Agent {Connection.AgentId} got no offer for conversation {conversationId} within {Patience.TotalSeconds:0} s.");
        }

        await Connection.AcceptAsync(offer.OfferId);
        return offer;
    }

    public Task SendAsync(string conversationId, string text) => Connection.SendAsync(conversationId, text);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.SetPresenceAsync(Presence.Offline); // its conversations go back to their queues, not to the next test's agent
        }
        catch (Exception ex) when (ex is ConnectionFailedException or Grpc.Core.RpcException or ObjectDisposedException)
        {
            // The silo may be gone already.
        }

        await Connection.DisposeAsync();
    }
}
