using System.Collections.Concurrent;
using System.Text;
using ContactGrains.Cli;
using ContactGrains.Protos.V1;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>The terminal client, typed into line by line, against the real silo: the agent mode, and the customer's rating.</summary>
[Collection(AgentSiloCollection.Name)]
public sealed class AgentDeskCliTests(AgentSiloFixture silo)
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_agent_in_the_terminal_accepts_the_offer_chats_and_resolves()
    {
        var agentId = Addresses.Unique("cleo");
        var (options, error) = AgentOptions.Parse(["--id", agentId, "--name", "Cleo", "--skills", "account:4", "--languages", "en", "--address", silo.Address]);
        Assert.Null(error);
        using var input = new TypedLines();
        var output = new ScreenWriter();
        using var stop = new CancellationTokenSource(SafetyTimeout);
        var desk = new AgentDesk(options!, input, output).RunAsync(stop.Token);
        await output.WaitForAsync("Type /help");
        // The timings shown are this silo's (shortened), as the server sent them.
        Assert.Contains("Offers wait 6 s for your answer (2 missed offers in a row set you away). If your connection drops, your conversations stay yours for 5 s.", output.Text);

        await using var adapter = new AdapterStream(silo.Client(), closeConversationsOnDispose: true);
        var customerName = Addresses.Unique("Dominique");
        var thread = Addresses.Unique("thread");
        var customer = Addresses.Customer(Addresses.Unique("cust"));
        customer.DisplayName = customerName;
        await adapter.SendMessageAsync("m1", Addresses.Thread(thread), "I want to change the email address of my account", customer);
        var conversationId = (await adapter.AckAsync("m1")).ConversationId;
        await adapter.SendMessageAsync("m2", Addresses.Thread(thread), "I want to speak to a human", customer);
        await adapter.AckAsync("m2");

        // The offer is shown with who the customer is and why a human is needed.
        // (The offer is several lines: wait for its last one, the bot's summary, before reading them.)
        await output.WaitForAsync(customerName);
        await output.WaitForAsync("The bot answered: update_email");
        Assert.Contains("customer-asked-for-human", output.Text);
        Assert.Contains("update_email", output.Text);

        input.Type("/accept");
        await output.WaitForAsync("Accepted");
        input.Type("Hello, I can change it for you.");
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Message?.Text == "Hello, I can change it for you."));
        Assert.Equal("Cleo", adapter.EntriesOf(conversationId).Single(e => e.Status?.Kind == StatusKind.AgentJoined).Status.AgentName);

        await adapter.SendMessageAsync("m3", Addresses.Conversation(conversationId), "Thanks, it is new@example.com");
        await output.WaitForAsync("customer: Thanks, it is new@example.com");

        // Customer text reaches the agent's terminal without its escape sequences and control characters
        // (the server removes them whole), and markup-like brackets print as typed.
        await adapter.SendMessageAsync("m4", Addresses.Conversation(conversationId), "Done \u001b[2J\u001b]0;title\u0007 [bold]ok[/]\r\u202Eenil");
        await output.WaitForAsync("customer: Done  [bold]ok[/]");
        await output.WaitForAsync("enil");
        Assert.DoesNotContain("[2J", output.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("]0;title", output.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(output.Text, c => char.IsControl(c) && c != '\n');

        input.Type("/resolve email-updated");
        await adapter.WaitUntilAsync(() => adapter.EntriesOf(conversationId).Any(e => e.Status?.Kind == StatusKind.Closed));
        // The customer reads a notice in their language; the wrap-up code is the agent's, in the ledger.
        Assert.Equal("Your adviser has marked your request as resolved.", adapter.EntriesOf(conversationId).Single(e => e.Status?.Kind == StatusKind.Resolved).Status.Detail);

        input.Type("/quit");
        Assert.Equal(0, await desk.WaitAsync(SafetyTimeout));
        Assert.Contains("Signed out.", output.Text);
    }

    [Fact]
    public async Task A_customer_in_the_terminal_rates_a_conversation_once_it_asks()
    {
        var (command, bind) = Commands.Chat();
        var options = bind(command.Parse(["--address", silo.Address, "--language", "en", "--thread", Addresses.Unique("cli-rate")]));
        using var input = new TypedLines();
        var output = new ScreenWriter();
        using var stop = new CancellationTokenSource(SafetyTimeout);
        var chat = new CustomerChat(options, input, output).RunAsync(stop.Token);
        await output.WaitForAsync("Type /quit");

        input.Type("/rate 5");
        await output.WaitForAsync("no conversation has asked for a rating yet");
        input.Type("Where is my refund?");
        await output.WaitForAsync("bot [refund_status");
        input.Type("/close");
        await output.WaitForAsync("-- rating asked: How would you rate the help you received today, from 1 (poor) to 5 (excellent)?");
        input.Type("/rate 9");
        await output.WaitForAsync("/rate takes a number from 1 (poor) to 5 (excellent)");
        input.Type("/rate 5");
        await output.WaitForAsync("rated 5 out of 5. Thank you.");
        input.Type("/rate 2");
        await output.WaitForAsync("was already rated 5.");

        input.Type("/quit");
        Assert.Equal(0, await chat.WaitAsync(SafetyTimeout));
    }

    /// <summary>Standard input, typed a line at a time by the test; reads block until a line comes.</summary>
    private sealed class TypedLines : TextReader
    {
        private readonly BlockingCollection<string> _lines = [];

        public void Type(string line) => _lines.Add(line);

        /// <summary>The next typed line, or null (end of input) once the test is over.</summary>
        public override string? ReadLine() => _lines.TryTake(out var line, Timeout.Infinite) ? line : null;

        protected override void Dispose(bool disposing)
        {
            _lines.CompleteAdding();
            base.Dispose(disposing);
        }
    }

    /// <summary>The terminal: everything written, and waits for a text to appear.</summary>
    private sealed class ScreenWriter : TextWriter
    {
        private readonly StringBuilder _text = new();
        private readonly Lock _lock = new();
        private readonly List<(string Expected, TaskCompletionSource Seen)> _waits = [];

        public override Encoding Encoding => Encoding.UTF8;

        public string Text
        {
            get
            {
                lock (_lock)
                {
                    return _text.ToString();
                }
            }
        }

        public override void Write(char value) => Append(value.ToString());

        public override void Write(string? value) => Append(value ?? "");

        public override void WriteLine(string? value) => Append((value ?? "") + "\n");

        public Task WaitForAsync(string expected)
        {
            lock (_lock)
            {
                if (_text.ToString().Contains(expected, StringComparison.Ordinal))
                {
                    return Task.CompletedTask;
                }

                var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waits.Add((expected, seen));
                return seen.Task.WaitAsync(SafetyTimeout);
            }
        }

        private void Append(string value)
        {
            lock (_lock)
            {
                _text.Append(value);
                var text = _text.ToString();
                _waits.RemoveAll(w => text.Contains(w.Expected, StringComparison.Ordinal) && w.Seen.TrySetResult() is var _);
            }
        }
    }
}
