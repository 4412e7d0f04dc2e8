using ContactGrains.Bot;
using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace ContactGrains.Grains.Tests;

/// <summary>The inactivity close runs on a reminder; a fake clock drives it (its own cluster, not the shared one).</summary>
public sealed class InactivityTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureHost(host =>
        {
            host.Services.AddContactGrainsDomain(KnowledgeBase.Load(KnowledgeBase.DefaultPath));
            host.Services.AddFakeClock(_clock);
            host.Services.Configure<ConversationOptions>(o => o.InactivityTimeout = Timeout);
        });
        builder.ConfigureSilo((_, silo) => silo.AddContactGrainsMemoryStorage().UseInMemoryReminderService());
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<IConversationGrain> StartAsync()
    {
        var thread = _cluster.Client.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
        var started = (await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust")), null))!;
        return _cluster.Client.GetGrain<IConversationGrain>(started.ConversationId);
    }

    /// <summary>Moves the clock a minute at a time, so every reminder tick on the way gets its turn.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        for (var step = TimeSpan.Zero; step < by; step += TimeSpan.FromMinutes(1))
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(20);
        }
    }

    private static async Task<ConversationSnapshot> WaitForStatusAsync(IConversationGrain conversation, ConversationStatus status)
    {
        // Reminder delivery is asynchronous even on a fake clock: poll, bounded by a safety limit.
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var snapshot = await conversation.GetSnapshot();
            if (snapshot.Status == status)
            {
                return snapshot;
            }

            await Task.Delay(100);
        }

        return await conversation.GetSnapshot();
    }

    [Fact]
    public async Task Quiet_conversation_is_closed_after_the_inactivity_timeout_and_the_ledger_says_why()
    {
        var conversation = await StartAsync();
        await conversation.ReceiveCustomerMessage(TestData.Message("m1", "Where is my refund?"), null);

        await AdvanceAsync(Timeout + TimeSpan.FromMinutes(2));
        var closed = await WaitForStatusAsync(conversation, ConversationStatus.Closed);

        Assert.Equal(ConversationStatus.Closed, closed.Status);
        Assert.Equal(OwnershipReasons.Inactive, closed.Ledger[^1].ReasonCode);
        Assert.Equal("No message from the customer for 10 min: closed automatically.", closed.Ledger[^1].Reason);
        var timeline = await conversation.GetTimeline(TestData.Channel, 0, 100);
        Assert.Equal(StatusKind.Closed, timeline.Entries[^1].Status!.Kind);
    }

    [Fact]
    public async Task A_customer_message_restarts_the_inactivity_countdown()
    {
        var conversation = await StartAsync();

        await AdvanceAsync(TimeSpan.FromMinutes(8));
        await conversation.ReceiveCustomerMessage(TestData.Message("m1", "Where is my parcel?"), null);
        await AdvanceAsync(TimeSpan.FromMinutes(5));

        // 13 minutes after the start but only 5 after the last message: still open.
        Assert.Equal(ConversationStatus.Open, (await conversation.GetSnapshot()).Status);

        await AdvanceAsync(TimeSpan.FromMinutes(7));
        Assert.Equal(ConversationStatus.Closed, (await WaitForStatusAsync(conversation, ConversationStatus.Closed)).Status);
    }
    [Fact]
    public async Task A_conversation_its_inactivity_check_finds_quiet_but_not_due_lets_its_activation_go_and_still_closes_on_time()
    {
        // The checks start one timeout after the start (10 minutes here), then come every minute
        // (the check period); a message at minute 8 makes the first ones find it quiet but not due.
        var conversation = await StartAsync();
        await conversation.ReceiveCustomerMessage(TestData.Message("m1", "Where is my refund?"), null);
        await AdvanceAsync(TimeSpan.FromMinutes(8));
        await conversation.ReceiveCustomerMessage(TestData.Message("m2", "Where is my parcel?"), null);
        Assert.True(await IsActiveAsync(conversation));

        await AdvanceAsync(TimeSpan.FromMinutes(3));

        // Gone from memory at some point: a check delivered late (the clock moved past several)
        // may wake it again briefly, so one observation of its absence is the proof, not a second look.
        var letGo = false;
        for (var attempt = 0; attempt < 300 && !letGo; attempt++)
        {
            letGo = !await IsActiveAsync(conversation);
            if (!letGo)
            {
                await Task.Delay(100);
            }
        }

        // Still open after being let go, and closed on time.
        Assert.True(letGo, "the conversation's activation was never collected after a quiet-but-not-due check");
        Assert.Equal(ConversationStatus.Open, (await conversation.GetSnapshot()).Status);
        await AdvanceAsync(TimeSpan.FromMinutes(8));
        var closed = await WaitForStatusAsync(conversation, ConversationStatus.Closed);
        Assert.Equal((ConversationStatus.Closed, OwnershipReasons.Inactive), (closed.Status, closed.Ledger[^1].ReasonCode));
    }

    private async Task<bool> IsActiveAsync(IConversationGrain conversation)
    {
        var management = _cluster.Client.GetGrain<IManagementGrain>(0);
        return (await management.GetDetailedGrainStatistics()).Any(activation => activation.GrainId == conversation.GetGrainId());
    }
}
