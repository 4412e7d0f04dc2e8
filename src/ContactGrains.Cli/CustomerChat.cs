using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.Cli;

/// <summary>An interactive customer on the client library's <see cref="ChannelConnection"/>: stdin in, timeline entries out.</summary>
/// <remarks>Text from the server is printed without its control characters (<see cref="DeskView.Clean"/>).</remarks>
internal sealed class CustomerChat(ChatOptions options, TextReader input, TextWriter output)
{
    // The conversation whose RATING_REQUESTED came last (written by the entry printer, read by /rate).
    private volatile string? _ratingAsked;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var reconnecting = false;
        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = options.Channel,
            ApiKey = options.ApiKey,
            Addresses = options.Addresses,
            OnStateChange = change =>
            {
                if (change.State == ConnectionState.Reconnecting)
                {
                    output.WriteLine($"  ! {(change.Attempt == 1 ? "connection lost" : "reconnect failed")} ({change.Status?.StatusCode}: {change.Status?.Detail}); reconnecting (attempt {change.Attempt})…");
                }
                else if (change.State == ConnectionState.Connected && reconnecting)
                {
                    output.WriteLine("  reconnected.");
                }

                reconnecting = change.State == ConnectionState.Reconnecting;
            },
        });
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var printer = PrintEntriesAsync(connection, stopReading.Token);
        var thread = ConversationAddress.ForThread(options.Thread);
        var customer = new CustomerIdentity { ExternalCustomerId = options.Customer, DisplayName = options.Name, Language = options.Language };
        output.WriteLine($"Connected to {string.Join(", ", options.Addresses)} as channel '{options.Channel}', thread '{options.Thread}'. Type /quit to leave.");
        try
        {
            while (await Task.Run(input.ReadLine, CancellationToken.None).WaitAsync(cancellationToken) is { } line && line.Trim() != "/quit")
            {
                try
                {
                    await RunAsync(connection, line, thread, customer, cancellationToken);
                }
                catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
                {
                    output.WriteLine($"  ! {ex.Status.StatusCode}: {ex.Status.Detail}");
                }
            }
        }
        finally
        {
            await stopReading.CancelAsync();
            await printer;
        }

        return 0;
    }

    private async Task RunAsync(ChannelConnection connection, string line, ConversationAddress thread, CustomerIdentity customer, CancellationToken cancellationToken)
    {
        switch (line.Trim())
        {
            case "":
                return;
            case "/info":
                var view = await connection.GetConversationAsync(thread, cancellationToken);
                output.WriteLine($"  conversation {view.ConversationId}: {view.Status}, owner {view.Owner.Kind}, {view.LastSequence} entries");
                foreach (var change in view.Ledger)
                {
                    var codes = change.ReasonCodes.Count > 0 ? string.Join(", ", change.ReasonCodes) : change.ReasonCode;
                    var signals = string.Join(" ", change.Signals.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"));
                    output.WriteLine(DeskView.Clean($"  ledger {change.Time.ToDateTimeOffset():u}: {change.From.Kind} -> {change.To.Kind} [{codes}] {change.Reason}{(signals.Length > 0 ? $" {{{signals}}}" : "")}"));
                }

                return;
            case "/transcript":
                await foreach (var entry in connection.ReadTranscriptAsync(thread, cancellationToken: cancellationToken))
                {
                    output.WriteLine($"  #{entry.Sequence} {(entry.Message is { } message ? Describe(message) : $"-- {Describe(entry.Status.Kind)}")}");
                }

                return;
            case "/close":
                await connection.CloseConversationAsync(thread, "Closed from the terminal client.", cancellationToken);
                return;
            case var rate when rate.StartsWith("/rate", StringComparison.Ordinal):
                await RateAsync(connection, rate["/rate".Length..].Trim(), cancellationToken);
                return;
        }

        // Unique per message: reusing --thread later must not make new lines look like resends.
        // Each line waits for its ack, so "/info" right after a message sees that message stored.
        try
        {
            var ack = await connection.SendAsync(Guid.CreateVersion7().ToString("N"), thread, line, customer, cancellationToken);
            if (!ack.IsStored)
            {
                output.WriteLine($"  ! rejected ({ack.Code}): {DeskView.Clean(ack.Detail)}");
            }
        }
        catch (TimeoutException ex)
        {
            output.WriteLine($"  ! {ex.Message} It may not have been stored.");
        }
    }

    /// <summary>Answers the last conversation's rating question ("-- rating asked").</summary>
    private async Task RateAsync(ChannelConnection connection, string value, CancellationToken cancellationToken)
    {
        if (!uint.TryParse(value, out var rating) || rating is < 1 or > 5)
        {
            output.WriteLine("  ! /rate takes a number from 1 (poor) to 5 (excellent), e.g. /rate 5");
            return;
        }

        if (_ratingAsked is not { } conversationId)
        {
            output.WriteLine("  ! no conversation has asked for a rating yet (it does when it is resolved or closed).");
            return;
        }

        await connection.RateConversationAsync(ConversationAddress.ForId(conversationId), rating, cancellationToken);
        output.WriteLine($"  rated {rating} out of 5. Thank you.");
    }

    private async Task PrintEntriesAsync(ChannelConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var entry in connection.ReadAllAsync(cancellationToken))
            {
                if (entry.Status?.Kind == StatusKind.RatingRequested)
                {
                    _ratingAsked = entry.ConversationId;
                }

                var line = entry switch
                {
                    // The customer's own messages are echoed in the timeline; the terminal already shows them.
                    { Message.Sender: SenderKind.Customer } => null,
                    { Message.Bot: { } bot } => $"bot [{(bot.Understood ? bot.Intent : "not sure")} {bot.Confidence:P0}]: {DeskView.Clean(entry.Message.Text)}",
                    { Message: { } message } => Describe(message),
                    { Status: { } status } => $"  -- {Describe(status.Kind)}{(status.Detail.Length > 0 ? ": " + DeskView.Clean(status.Detail) : "")} (#{entry.Sequence})",
                    _ => null,
                };
                if (line is not null)
                {
                    output.WriteLine(line);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ConnectionFailedException ex)
        {
            output.WriteLine($"  ! {ex.Message}");
        }
    }

    private static string Describe(ChatMessage message) => $"{message.Sender.ToString().ToLowerInvariant()}: {DeskView.Clean(message.Text)}";

    private static string Describe(StatusKind kind) => kind switch
    {
        StatusKind.AgentJoined => "agent joined",
        StatusKind.BotResumed => "bot resumed",
        StatusKind.RatingRequested => "rating asked",
        StatusKind.RatingReceived => "rating received",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
