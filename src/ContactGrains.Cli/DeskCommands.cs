using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.Cli;

/// <summary>The agent's typed commands: one per line of input, parsed and run on the <see cref="AgentConnection"/>.</summary>
internal sealed class DeskCommands(AgentConnection connection, DeskState desk, DeskView view, uint capacity)
{
    public const string Help = """
        Commands:
          /accept [n]        accept offer n (default: the oldest); n may also be the offer's short id
          /decline [n]       decline offer n (default: the oldest)
          /list              pending offers and your conversations, numbered (* = current)
          /use n             make conversation n the current one
          any other text     sent to the current conversation (start with // to send a leading /)
          /transcript        the current conversation's whole transcript
          /transfer queue SKILL [LANG] [note…]   to a queue; LANG is a two-letter code, or -
                                                 for the conversation's own language (the default)
          /transfer agent AGENT_ID [note…]       to another agent, who must be available
          /resolve CODE [note…]   resolve with a wrap-up code (a-z, 0-9, -, _), e.g. refund-issued
          /bot [note…]       hand the conversation back to the bot
          /draft [text…]     send the bot's draft reply (copilot intents) as is, or your edit of it
          /discard           discard the bot's draft reply
          /available, /away, /offline   set your presence (offline returns your conversations
                                        to their queues)
          /stats             queue statistics
          /help, /quit
        """;

    /// <summary>A parsed /transfer: to a queue (Skill, and Language "" for the conversation's own) or to an agent.</summary>
    internal sealed record Transfer(string? Skill, string Language, string? AgentId, string Note);

    /// <summary>Reads and runs commands until /quit or the end of input.</summary>
    public async Task RunAsync(TextReader input, CancellationToken cancellationToken)
    {
        // Console.In reads block and ignore the token: read on the pool so Ctrl+C can leave the wait.
        while (await Task.Run(input.ReadLine, CancellationToken.None).WaitAsync(cancellationToken) is { } line)
        {
            var text = line.Trim();
            if (text.Length == 0)
            {
                continue;
            }

            if (!text.StartsWith('/') || text.StartsWith("//", StringComparison.Ordinal))
            {
                await SendAsync(text.StartsWith("//", StringComparison.Ordinal) ? text[1..] : text, cancellationToken);
                continue;
            }

            var (verb, rest) = SplitWord(text);
            if (verb == "/quit")
            {
                return;
            }

            try
            {
                await RunAsync(verb, rest, cancellationToken);
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                view.Error($"{ex.StatusCode}: {ex.Status.Detail}");
            }
        }
    }

    /// <summary>
    /// Parses the arguments of /transfer: "queue SKILL [LANG] [note…]" or "agent AGENT_ID [note…]".
    /// After SKILL, a two-letter word is the language and "-" means the conversation's own.
    /// </summary>
    internal static (Transfer? Transfer, string? Error) ParseTransfer(string arguments)
    {
        var (kind, rest) = SplitWord(arguments);
        var (target, afterTarget) = SplitWord(rest);
        var (language, afterLanguage) = SplitWord(afterTarget);
        var isLanguage = language == "-" || (language.Length == 2 && language.All(char.IsAsciiLetter));
        return (kind, target) switch
        {
            (_, "") => (null, "Usage: /transfer queue SKILL [LANG] [note…]  or  /transfer agent AGENT_ID [note…]"),
            ("queue", _) when isLanguage => (new Transfer(target, language == "-" ? "" : language.ToLowerInvariant(), null, afterLanguage), null),
            ("queue", _) => (new Transfer(target, "", null, afterTarget), null),
            ("agent", _) => (new Transfer(null, "", target, afterTarget), null),
            _ => (null, "Usage: /transfer queue SKILL [LANG] [note…]  or  /transfer agent AGENT_ID [note…]"),
        };
    }

    /// <summary>Splits off the first word: ("/resolve", "refund-issued Sent to card").</summary>
    internal static (string Word, string Remainder) SplitWord(string text)
    {
        text = text.Trim();
        var space = text.IndexOfAny([' ', '\t']);
        return space < 0 ? (text, "") : (text[..space], text[(space + 1)..].Trim());
    }

    private async Task RunAsync(string verb, string rest, CancellationToken cancellationToken)
    {
        switch (verb)
        {
            case "/help":
                view.Plain(Help);
                break;
            case "/list":
                desk.List();
                break;
            case "/accept":
                await AcceptAsync(rest, cancellationToken);
                break;
            case "/decline" when desk.PickOffer(rest) is { } offer:
                if (await AnswerOfferAsync(offer, () => connection.DeclineAsync(offer.OfferId, cancellationToken)))
                {
                    view.Line($"Declined offer {DeskState.Tag(offer.OfferId)}: it goes to the next agent.");
                }

                break;
            case "/use":
                desk.Use(rest);
                break;
            case "/transcript" when desk.CurrentOrExplain() is { } id:
                // One read returns at most 500 entries: page until the conversation's last sequence.
                var entries = new List<TimelineEntry>();
                AgentTranscriptResponse page;
                do
                {
                    page = await connection.GetTranscriptAsync(id, entries.LastOrDefault()?.Sequence ?? 0, 0, cancellationToken);
                    entries.AddRange(page.Entries);
                }
                while (page.Entries.Count > 0 && entries[^1].Sequence < page.LastSequence);

                view.Transcript(id, entries);
                break;
            case "/transfer":
                await TransferAsync(rest, cancellationToken);
                break;
            case "/resolve" when SplitWord(rest) is ("", _):
                view.Line($"Usage: /resolve CODE [[note…]], e.g. /resolve refund-issued Refund sent to the card.");
                break;
            case "/resolve" when desk.CurrentOrExplain() is { } id:
                var (code, note) = SplitWord(rest);
                await LeaveAsync(id, () => connection.ResolveAsync(id, code, note, cancellationToken), $"Resolved {DeskState.Tag(id)} ({code}).");
                break;
            case "/bot" when desk.CurrentOrExplain() is { } id:
                await LeaveAsync(id, () => connection.HandBackAsync(id, rest, cancellationToken), $"Handed {DeskState.Tag(id)} back to the bot.");
                break;
            case "/draft" when desk.CurrentOrExplain() is { } id:
                if (connection.State(s => s.DraftOf(id)) is not { } draft)
                {
                    view.Line($"No draft in {DeskState.Tag(id)}: the bot drafts replies only for intents at the copilot level.");
                    break;
                }

                var text = rest.Length == 0 ? draft.Text : rest;
                await connection.SendAsync(id, text, cancellationToken: cancellationToken, draftId: draft.DraftId);
                view.Line($"Sent the bot's draft{(rest.Length == 0 ? "" : ", edited")}.");
                break;
            case "/discard" when desk.CurrentOrExplain() is { } id:
                if (connection.State(s => s.DraftOf(id)) is { } discarded)
                {
                    await connection.DiscardDraftAsync(id, discarded.DraftId, cancellationToken);
                    view.Line($"Discarded the bot's draft.");
                }
                else
                {
                    view.Line($"No draft in {DeskState.Tag(id)}.");
                }

                break;
            case "/available":
                await SetPresenceAsync(Presence.Available, $"You are now available: offers come in up to your capacity ({capacity}).", cancellationToken);
                break;
            case "/away":
                await SetPresenceAsync(Presence.Away, $"You are now away: you keep your conversations, no new offers.", cancellationToken);
                break;
            case "/offline":
                await SetPresenceAsync(Presence.Offline, $"You are now offline: no offers, and your conversations go back to their queues.", cancellationToken);
                break;
            case "/stats":
                var queues = await connection.GetQueueStatsAsync(cancellationToken: cancellationToken);
                if (queues.Count == 0)
                {
                    view.Line($"No queues.");
                }
                else
                {
                    view.Stats(queues);
                }

                break;
            case "/decline" or "/transcript" or "/resolve" or "/bot" or "/draft" or "/discard":
                break; // told why by PickOffer or CurrentOrExplain
            default:
                view.Plain($"Unknown command '{verb}'.\n{Help}");
                break;
        }
    }

    private async Task AcceptAsync(string argument, CancellationToken cancellationToken)
    {
        if (desk.PickOffer(argument) is not { } offer)
        {
            return;
        }

        using (desk.Own(offer.Context?.ConversationId ?? ""))
        {
            Assignment? assignment = null;
            if (await AnswerOfferAsync(offer, async () => assignment = await connection.AcceptAsync(offer.OfferId, cancellationToken)))
            {
                desk.Accepted(assignment!);
            }
        }
    }

    /// <summary>Accepts or declines; returns false after an error, and an offer the server says is no longer pending leaves the list.</summary>
    private async Task<bool> AnswerOfferAsync(Offer offer, Func<Task> answer)
    {
        try
        {
            await answer();
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode is not StatusCode.Cancelled)
        {
            var stale = ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound && connection.State(s => s.Withdraw(offer.OfferId));
            view.Error($"{ex.StatusCode}: {ex.Status.Detail}{(stale ? $" Offer {DeskState.Tag(offer.OfferId)} removed from your list." : "")}");
            return false;
        }
    }

    private async Task SendAsync(string text, CancellationToken cancellationToken)
    {
        if (desk.CurrentOrExplain() is not { } id)
        {
            return;
        }

        try
        {
            var entry = await connection.SendAsync(id, text, cancellationToken: cancellationToken);
            view.Line($"[grey]  sent {DeskState.Tag(id)} #{entry.Sequence}[/]");
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            view.Error($"{ex.StatusCode}: {ex.Status.Detail}");
        }
    }

    private async Task TransferAsync(string arguments, CancellationToken cancellationToken)
    {
        var (transfer, error) = ParseTransfer(arguments);
        if (transfer is null)
        {
            view.Line($"{error}");
            return;
        }

        if (desk.CurrentOrExplain() is not { } id)
        {
            return;
        }

        if (transfer.AgentId is { } agentId)
        {
            await LeaveAsync(id, () => connection.TransferToAgentAsync(id, agentId, transfer.Note, cancellationToken),
                $"Transferred {DeskState.Tag(id)} to agent {agentId} (if they decline or miss the offer, the next agent of the queue gets it).");
            return;
        }

        var language = transfer.Language.Length > 0 ? ":" + transfer.Language : " (in the conversation's language)";
        await LeaveAsync(id, () => connection.TransferToQueueAsync(id, transfer.Skill!, transfer.Language, transfer.Note, cancellationToken),
            $"Transferred {DeskState.Tag(id)} to queue {transfer.Skill}{language}.");
    }

    private async Task LeaveAsync(string conversationId, Func<Task> leave, FormattableString done)
    {
        using (desk.Own(conversationId))
        {
            await leave();
            desk.LetGo(conversationId, done);
        }
    }

    private async Task SetPresenceAsync(Presence presence, FormattableString done, CancellationToken cancellationToken)
    {
        using (desk.Requesting(presence))
        {
            desk.PresenceSet(await connection.SetPresenceAsync(presence, cancellationToken), done);
        }
    }
}
