using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using ContactGrains.Client;
using ContactGrains.Grains.Diagnostics;
using ContactGrains.Protos.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The metrics a dashboard is built on (docs/operations.md), produced by a short real run over gRPC
/// on a silo of their own, with exact values where the run determines them; the Prometheus scrape
/// endpoint serves them; a customer message's trace reaches the agent's stream.
/// </summary>
public sealed class TelemetryTests(TelemetryTests.Fixture silo) : IClassFixture<TelemetryTests.Fixture>
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_short_run_produces_the_documented_metrics_with_exact_values()
    {
        using var received = Collector<long>("contactgrains.messages.received");
        using var sent = Collector<long>("contactgrains.messages.sent");
        using var answers = Collector<long>("contactgrains.bot.answers");
        using var handoffs = Collector<long>("contactgrains.handoffs");
        using var closed = Collector<long>("contactgrains.conversations.closed");
        using var offers = Collector<long>("contactgrains.offers");
        using var acks = Collector<double>("contactgrains.ack.duration");
        using var waiting = Collector<int>("contactgrains.queue.waiting");
        using var agents = Collector<int>("contactgrains.agents");
        using var queueAgents = Collector<int>("contactgrains.queue.agents");
        using var storage = Collector<double>("contactgrains.storage.duration");
        var sms = ChannelClient.Create(silo.Channel, "sms");

        // A conversation the bot contains: answered, then closed by the adapter.
        var contained = await SendAsync(sms, Addresses.Unique("contained"), "Where is my refund?");
        await sms.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(contained) });

        // One that goes to a human: a miss, then a request for an agent.
        var thread = Addresses.Unique("handoff");
        var handedOff = await SendAsync(sms, thread, "qsdkjh zzzq");
        await SendAsync(sms, thread, "I want to speak to a human");
        var queue = (await sms.GetConversationAsync(new GetConversationRequest { Conversation = Addresses.Conversation(handedOff) })).Owner.Id;
        await Eventually(() => Gauge(waiting, "queue", queue) == 1);

        // An agent takes it and answers.
        await using var desk = await TestDesk.ConnectAsync(silo, "tel-ann", TestDesk.Profile("Ann", "general:3", "en"));
        await Eventually(() => Gauge(agents, "presence", "available") >= 1 && Gauge(queueAgents, "queue", queue, ("state", "available")) == 1);
        await desk.AcceptOfferForAsync(handedOff);
        await desk.Connection.SendAsync(handedOff, "Hello, I am Ann.");
        await Eventually(() => Gauge(waiting, "queue", queue) == 0);

        Assert.Equal(3, Sum(received, ("channel", "sms")));
        Assert.Equal(3, Sum(sent, ("channel", "sms"), ("sender", "bot")));
        Assert.Equal(1, Sum(sent, ("channel", "sms"), ("sender", "agent")));
        Assert.Equal(1, Sum(answers, ("intent", "refund_status"), ("understood", true)));
        Assert.Equal(1, Sum(answers, ("understood", false)));
        Assert.Equal(1, Sum(handoffs, ("reason", "customer-asked-for-human")));
        Assert.Equal(1, Sum(handoffs));
        Assert.Equal(1, Sum(closed, ("channel", "sms"), ("intent", "refund_status"), ("contained", true)));
        Assert.Equal(1, Sum(offers, ("queue", queue), ("outcome", "made")));
        Assert.Equal(1, Sum(offers, ("queue", queue), ("outcome", "accepted")));
        Assert.Equal(3, acks.GetMeasurementSnapshot().Count(m => Has(m.Tags, ("channel", "sms"), ("transport", "unary"), ("outcome", "accepted"))));
        Assert.All(acks.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, 0, 60));

        // Every stored change is timed: each of the three customer messages and the agent's reply
        // wrote a conversation; the agent's sign-in and accept wrote its own state.
        Assert.True(storage.GetMeasurementSnapshot().Count(m => Has(m.Tags, ("state", "conversation"), ("operation", "write"), ("outcome", "ok"))) >= 4);
        Assert.Contains(storage.GetMeasurementSnapshot(), m => Has(m.Tags, ("state", "agent"), ("operation", "write"), ("outcome", "ok")));
        Assert.DoesNotContain(storage.GetMeasurementSnapshot(), m => Has(m.Tags, ("outcome", "failed")));
        Assert.All(storage.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, 0, 60));
    }

    [Fact]
    public async Task The_prometheus_endpoint_serves_the_metrics()
    {
        var webchat = ChannelClient.Create(silo.Channel, "prom");
        await SendAsync(webchat, Addresses.Unique("prom"), "Where is my refund?");
        using var http = new HttpClient();

        string body = "";
        await Eventually(async () =>
        {
            body = await http.GetStringAsync(silo.PrometheusUrl + "/metrics");
            return body.Contains("contactgrains_messages_received_total{", StringComparison.Ordinal) && body.Contains("channel=\"prom\"", StringComparison.Ordinal);
        });

        Assert.Contains("# TYPE contactgrains_messages_received_total counter", body, StringComparison.Ordinal);
        Assert.Contains("contactgrains_ack_duration_seconds_bucket{", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_customer_messages_trace_reaches_the_agents_stream()
    {
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is ContactGrainsMetrics.MeterName or "Microsoft.Orleans.Application" or "Microsoft.Orleans.Runtime",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (activities)
                {
                    activities.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        // In French: its queue (general:fr) is not the one the metrics test counts.
        var sms = ChannelClient.Create(silo.Channel, "trace");
        var thread = Addresses.Unique("trace");
        var conversationId = await SendAsync(sms, thread, "je veux parler à un conseiller", "fr");
        await using var desk = await TestDesk.ConnectAsync(silo, "trace-ben", TestDesk.Profile("Ben", "general:3", "fr"));
        await desk.AcceptOfferForAsync(conversationId);

        await SendAsync(sms, thread, "Mon numéro de commande est 40021", "fr");

        Activity? receive = null;
        await Eventually(() =>
        {
            lock (activities)
            {
                receive = activities.LastOrDefault(a => a.OperationName == "contactgrains.message.receive" && (string?)a.GetTagItem("contactgrains.conversation_id") == conversationId);
                return receive is not null && activities.Any(a => a.OperationName == "contactgrains.agent.event" && a.TraceId == receive.TraceId);
            }
        });
        lock (activities)
        {
            Assert.Contains(activities, a => a.Source.Name == "Microsoft.Orleans.Application" && a.TraceId == receive!.TraceId);
        }
    }

    [Fact]
    public async Task What_a_conversation_logs_carries_its_id_in_the_scope()
    {
        var conversationId = await SendAsync(ChannelClient.Create(silo.Channel, "logs"), Addresses.Unique("logs"), "Where is my refund?");

        var answered = silo.Logs.GetSnapshot().Where(r => r.Category == "ContactGrains.Grains.Conversations.ConversationGrain" && r.Message.Contains(conversationId, StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(answered);
        Assert.All(answered, record => Assert.Contains(record.Scopes, scope =>
            scope is IEnumerable<KeyValuePair<string, object?>> state && state.Any(kv => kv.Key == "ConversationId" && Equals(kv.Value, conversationId))));
    }

    private MetricCollector<T> Collector<T>(string instrument) where T : struct =>
        new(silo.Services.GetRequiredService<IMeterFactory>(), ContactGrainsMetrics.MeterName, instrument);

    private static long Sum(MetricCollector<long> collector, params (string Key, object Value)[] tags) =>
        collector.GetMeasurementSnapshot().Where(m => Has(m.Tags, tags)).Sum(m => m.Value);

    private static int? Gauge(MetricCollector<int> collector, string key, string value, params (string Key, object Value)[] more)
    {
        collector.RecordObservableInstruments();
        return collector.GetMeasurementSnapshot().LastOrDefault(m => Has(m.Tags, [(key, value), .. more]))?.Value;
    }

    private static bool Has(IReadOnlyDictionary<string, object?> tags, params (string Key, object Value)[] wanted) =>
        wanted.All(w => tags.TryGetValue(w.Key, out var value) && Equals(value, w.Value));

    private static async Task<string> SendAsync(ChannelService.ChannelServiceClient client, string thread, string text, string language = "en")
    {
        var customer = Addresses.Customer("tel-customer-" + language);
        customer.Language = language;
        var response = await client.SendMessageAsync(new SendMessageRequest
        {
            Message = new InboundMessage { MessageId = Addresses.Unique("m"), Conversation = Addresses.Thread(thread), Customer = customer, Text = text },
        });
        Assert.Equal(AckStatus.Accepted, response.Ack.Status);
        return response.Ack.ConversationId;
    }

    private static Task Eventually(Func<bool> condition) => Eventually(() => Task.FromResult(condition()));

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > SafetyTimeout)
            {
                throw new TimeoutException("The condition did not become true.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>A silo of its own, so the counters hold only this class's run; with a Prometheus endpoint.</summary>
    public sealed class Fixture : SiloFixture
    {
        public Fixture()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            PrometheusUrl = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
        }

        public string PrometheusUrl { get; }

        /// <summary>What the conversation grains logged (debug and up), with the scopes each line was written in.</summary>
        public FakeLogCollector Logs => Services.GetRequiredService<FakeLogCollector>();

        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [
            new("ContactGrains:Telemetry:PrometheusUrl", PrometheusUrl),
            new("Logging:LogLevel:ContactGrains.Grains.Conversations", "Debug"),
        ];

        protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddFakeLogging();
    }
}
