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
}
