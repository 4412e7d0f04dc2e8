using System.Collections.Concurrent;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.Cli;

/// <summary>An interactive customer session: one Connect stream, stdin in, timeline entries out.</summary>
internal sealed class CustomerChat(CliOptions options, TextReader input, TextWriter output)
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(30);

    // Each line waits for its ack, so "/info" right after a message sees that message stored.
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Ack>> _pendingAcks = new();

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var grpcChannel = ChannelClient.OpenChannel(options.Address);
        var client = ChannelClient.Create(grpcChannel, options.Channel);
        using var call = client.Connect(cancellationToken: cancellationToken);
        var printer = PrintDownstreamAsync(call.ResponseStream, cancellationToken);

        output.WriteLine($"Connected to {options.Address} as channel '{options.Channel}', thread '{options.Thread}'. Type /quit to leave.");
        var address = new ConversationAddress { ExternalThreadId = options.Thread };
        var customer = new CustomerIdentity { ExternalCustomerId = options.Customer, DisplayName = options.Name, Language = options.Language };

        while (await input.ReadLineAsync(cancellationToken) is { } line)
        {
            var text = line.Trim();
            switch (text)
            {
                case "":
                    continue;
                case "/quit":
                    await call.RequestStream.CompleteAsync();
                    await printer;
                    return 0;
                case "/info":
                    await PrintInfoAsync(client, address, cancellationToken);
                    continue;
                case "/transcript":
                    await PrintTranscriptAsync(client, address, cancellationToken);
                    continue;
                case "/close":
                    await CloseAsync(client, address, cancellationToken);
                    continue;
            }

            // Unique per message: reusing --thread later must not make new lines look like resends.
            var messageId = Guid.CreateVersion7().ToString("N");
            var acked = _pendingAcks.GetOrAdd(messageId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
            await call.RequestStream.WriteAsync(new ChannelUpstream
            {
                Message = new InboundMessage { MessageId = messageId, Conversation = address, Customer = customer, Text = line },
            }, cancellationToken);
            try
            {
                await acked.Task.WaitAsync(AckTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                output.WriteLine($"  ! no acknowledgement within {AckTimeout.TotalSeconds:F0} s; the message may not have been stored.");
            }
        }

        await call.RequestStream.CompleteAsync();
        await printer;
        return 0;
    }

    private async Task PrintDownstreamAsync(IAsyncStreamReader<ChannelDownstream> stream, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var frame in stream.ReadAllAsync(cancellationToken))
            {
                if (frame.Ack is { } ack)
                {
                    if (ack.Status == AckStatus.Rejected)
                    {
                        output.WriteLine($"  ! rejected ({(StatusCode)ack.Code}): {ack.Detail}");
                    }

                    if (_pendingAcks.TryRemove(ack.CorrelationId, out var pending))
                    {
                        pending.TrySetResult(ack);
                    }
                }
                else if (frame.Entry is { } entry && Describe(entry) is { } line)
                {
                    output.WriteLine(line);
                }
            }
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
        {
            output.WriteLine($"  ! connection lost: {ex.Status.StatusCode}: {ex.Status.Detail}");
        }
    }

    private static string? Describe(TimelineEntry entry) => entry.BodyCase switch
    {
        // The customer's own messages are echoed in the timeline; the terminal already shows them.
        TimelineEntry.BodyOneofCase.Message when entry.Message.Sender == SenderKind.Customer => null,
        TimelineEntry.BodyOneofCase.Message when entry.Message.Bot is { } bot =>
            $"bot [{(bot.Understood ? bot.Intent : "not sure")} {bot.Confidence:P0}]: {entry.Message.Text}",
        TimelineEntry.BodyOneofCase.Message => $"{entry.Message.Sender.ToString().ToLowerInvariant()}: {entry.Message.Text}",
        TimelineEntry.BodyOneofCase.Status => $"  -- {Describe(entry.Status.Kind)}{(entry.Status.Detail.Length > 0 ? ": " + entry.Status.Detail : "")} (#{entry.Sequence})",
        _ => null,
    };

    private async Task PrintInfoAsync(ChannelService.ChannelServiceClient client, ConversationAddress address, CancellationToken cancellationToken)
    {
        try
        {
            var view = await client.GetConversationAsync(new GetConversationRequest { Conversation = address }, cancellationToken: cancellationToken);
            output.WriteLine($"  conversation {view.ConversationId}: {view.Status}, owner {view.Owner.Kind}, {view.LastSequence} entries");
            foreach (var change in view.Ledger)
            {
                var codes = change.ReasonCodes.Count > 0 ? string.Join(", ", change.ReasonCodes) : change.ReasonCode;
                var signals = string.Join(" ", change.Signals.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"));
                output.WriteLine($"  ledger {change.Time.ToDateTimeOffset():u}: {change.From.Kind} -> {change.To.Kind} [{codes}] {change.Reason}{(signals.Length > 0 ? $" {{{signals}}}" : "")}");
            }
        }
        catch (RpcException ex)
        {
            output.WriteLine($"  ! {ex.Status.StatusCode}: {ex.Status.Detail}");
        }
    }

    private async Task CloseAsync(ChannelService.ChannelServiceClient client, ConversationAddress address, CancellationToken cancellationToken)
    {
        try
        {
            await client.CloseConversationAsync(new CloseConversationRequest { Conversation = address, Reason = "Closed from the terminal client." }, cancellationToken: cancellationToken);
        }
        catch (RpcException ex)
        {
            output.WriteLine($"  ! {ex.Status.StatusCode}: {ex.Status.Detail}");
        }
    }

    private async Task PrintTranscriptAsync(ChannelService.ChannelServiceClient client, ConversationAddress address, CancellationToken cancellationToken)
    {
        try
        {
            // Page through the whole timeline: one read returns at most 500 entries.
            var request = new GetTranscriptRequest { Conversation = address };
            GetTranscriptResponse page;
            do
            {
                page = await client.GetTranscriptAsync(request, cancellationToken: cancellationToken);
                foreach (var entry in page.Entries)
                {
                    var text = entry.BodyCase == TimelineEntry.BodyOneofCase.Message
                        ? $"{entry.Message.Sender.ToString().ToLowerInvariant()}: {entry.Message.Text}"
                        : $"-- {Describe(entry.Status.Kind)}";
                    output.WriteLine($"  #{entry.Sequence} {text}");
                    request.AfterSequence = entry.Sequence;
                }
            }
            while (page.Entries.Count > 0 && request.AfterSequence < page.LastSequence);
        }
        catch (RpcException ex)
        {
            output.WriteLine($"  ! {ex.Status.StatusCode}: {ex.Status.Detail}");
        }
    }

    private static string Describe(StatusKind kind) => kind switch
    {
        StatusKind.AgentJoined => "agent joined",
        StatusKind.BotResumed => "bot resumed",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
