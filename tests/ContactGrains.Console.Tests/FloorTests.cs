using ContactGrains.Client;
using ContactGrains.Protos.V1;
using static Microsoft.Playwright.Assertions;

namespace ContactGrains.Console.Tests;

/// <summary>The floor: queues with what waits in them, the agents, and a queue's last 24 hours as a chart.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class FloorTests(ConsoleFixture silo)
{
    [Fact]
    public async Task The_floor_shows_a_queue_with_a_waiting_conversation_and_a_connected_agent_and_charts_its_history()
    {
        // Ann serves only orders, so the conversation below waits in its queue.
        await using var ann = await silo.DeskAsync(ConsoleFixture.Unique("ann"), "Ann Floor", ["orders"], Presence.Available);
        var conversationId = await silo.AskAsync("I want to speak to a human", "Walter Waiting");
        var view = await silo.Supervisor("sam").GetConversationAsync(new SupervisorConversationRequest { ConversationId = conversationId });
        Assert.Equal(OwnerKind.Queue, view.Summary.Owner.Kind);
        var queue = view.Summary.Owner.Id;
        Assert.NotEqual("orders:en", queue);

        await using var console = await silo.SignedInAsync("sam");

        var row = console.Floor.Queue(queue);
        await Expect(row.Locator("[data-field='waiting']")).Not.ToHaveTextAsync("0");
        await Expect(row.Locator("[data-field='longest-wait']")).Not.ToHaveTextAsync("–");
        await Expect(console.Floor.Count("in-queues")).Not.ToHaveTextAsync("0");
        var agent = console.Floor.Agent(ann.AgentId);
        await Expect(agent).ToHaveAttributeAsync("data-connected", "true");
        await Expect(agent).ToHaveAttributeAsync("data-presence", "PRESENCE_AVAILABLE");
        await Expect(agent).ToContainTextAsync("Ann Floor");
        await Expect(agent.Locator("[data-field='load']")).ToHaveTextAsync("0 / 3");
        await Expect(agent).ToContainTextAsync("orders:en");

        await console.Floor.SelectQueueAsync(queue);
        var history = await silo.Supervisor("sam").GetQueueHistoryAsync(new GetQueueHistoryRequest { Queue = queue, Hours = 24 });
        Assert.NotEmpty(history.Intervals);
        await Expect(row).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(console.Floor.HistoryChart.Locator("svg[data-chart='queue-waits'] [data-point='average-wait']")).ToHaveCountAsync(history.Intervals.Count);
        await Expect(console.Floor.HistoryChart.Locator("svg[data-chart='queue-service-level']")).ToBeVisibleAsync();
        await console.ScreenshotAsync("floor.png");
    }

    [Fact]
    public async Task An_automatic_demotion_is_announced_on_the_floor_with_its_evidence()
    {
        const string Question = "What are your opening hours?";
        var customer = silo.Customer();
        var supervisor = silo.Supervisor("dora");
        var doraId = ConsoleFixture.Unique("dora");
        await using var desk = await silo.DeskAsync(doraId, "Dora", ["general"], Presence.Away, ConsoleFixture.SupervisorToken(doraId));

        // The bot answers one customer, who rates it 1; a person helps another, who rates them 5.
        var botOnly = await silo.AskAsync(Question, "Bianca Bot");
        await customer.CloseConversationAsync(new CloseConversationRequest { Conversation = new ConversationAddress { ConversationId = botOnly } });
        await customer.RateConversationAsync(new RateConversationRequest { Conversation = new ConversationAddress { ConversationId = botOnly }, Rating = 1 });
        var helped = await silo.AskAsync(Question, "Hugo Human");
        await AgentClient.CreateSupervisor(silo.Channel, ConsoleFixture.SupervisorToken(desk.AgentId))
            .TakeOverAsync(new TakeOverRequest { ConversationId = helped, Reason = "Helping with opening hours" });
        await desk.ResolveAsync(helped, "info-given");
        await customer.RateConversationAsync(new RateConversationRequest { Conversation = new ConversationAddress { ConversationId = helped }, Rating = 5 });

        await using var console = await silo.SignedInAsync("dora");

        var alert = console.Page.Locator("[data-demotions] [data-demotion='opening_hours']");
        await Expect(alert).ToBeVisibleAsync();
        await Expect(alert).ToContainTextAsync("Supervised");
        await Expect(alert.Locator(".evidence")).ToContainTextAsync("The bot's mean rating is 1.00 over 1 rated conversation,");
        await console.ScreenshotAsync("floor-demotion.png");
        var floor = await supervisor.GetFloorAsync(new GetFloorRequest());
        Assert.Contains(floor.RecentDemotions, d => d.Intent == "opening_hours" && d.ChangedBy == "demotion-rule");
    }
}
