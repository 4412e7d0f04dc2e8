using System.Globalization;
using System.Text;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.Cli;

/// <summary>
/// An interactive agent desktop in the terminal: one Connect stream printed as it arrives (offers,
/// customer messages, notices), and one command per stdin line, each a unary call of the agent API.
/// </summary>
/// <remarks>
/// The offers and conversations shown are rebuilt from the stream's events alone, and a sync event
/// replaces them entirely. Output from the stream task and from the command loop goes through one
/// lock, so multi-line blocks never interleave.
/// </remarks>
internal sealed class AgentDesk(AgentOptions options, TextReader input, TextWriter output, TimeProvider? timeProvider = null)
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
          /available, /away, /offline   set your presence (offline returns your conversations
                                        to their queues)
          /stats             queue statistics
          /help, /quit
        """;

    private const int MaxReconnectAttempts = 12;
    private const int MessagesInContext = 5;
    private const int MaxShownTextLength = 300;

    // A connection that stayed up this long earns a fresh set of reconnect attempts; a stream that
    // keeps dropping right after connecting uses up the same set.
    private static readonly TimeSpan StableConnection = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Lock _gate = new();

    // Desk state, guarded by _gate: rebuilt from stream events, replaced by every sync.
    private readonly Dictionary<string, Offer> _offers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Assignment> _conversations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _lastShown = new(StringComparer.Ordinal);
    private string? _current;
    private AgentStatus? _status;
    private AgentSettings? _settings; // the server's timings, from the latest sync

    // Set while a command is changing something the stream also reports, so the stream's echo of
    // it is not printed a second time.
    private Presence? _requestedPresence;
    private string? _acceptingConversation;

    /// <summary>Connects to <see cref="AgentOptions.Address"/> and runs the desk until /quit, end of input or cancellation.</summary>
    /// <returns>0 when the agent left; an <see cref="RpcException"/> escapes only when the first Connect fails.</returns>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var grpcChannel = ChannelClient.OpenChannel(options.Address);
        return await RunAsync(AgentClient.Create(grpcChannel, options.AgentId), cancellationToken);
    }

    /// <summary>Runs the desk over an existing client (its calls must carry the agent header).</summary>
    internal async Task<int> RunAsync(AgentService.AgentServiceClient client, CancellationToken cancellationToken)
    {
        using var stopStream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        AsyncServerStreamingCall<AgentEvent> call;
        try
        {
            call = await ConnectAsync(client, options.ToProfile(), "Signed in", stopStream.Token);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or RpcException)
        {
            return 0;
        }

        lock (_gate)
        {
            if (_settings is { } settings)
            {
                output.WriteLine($"Offers wait {settings.OfferTimeoutSeconds} s for your answer ({Count((int)settings.MissedOffersBeforeAway, "missed offer")} in a row set you away). If your connection drops, your conversations stay yours for {settings.DisconnectGracePeriodSeconds} s.");
            }
        }

        Print("Type /help for the commands.");
        var events = ReadEventsAsync(client, call, stopStream.Token);
        try
        {
            await RunCommandsAsync(client, cancellationToken);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or RpcException)
        {
            // Ctrl+C: leave like /quit.
        }
        finally
        {
            await stopStream.CancelAsync();
            await events;
        }

        lock (_gate)
        {
            var held = _conversations.Count + _offers.Count;
            output.WriteLine(held == 0
                ? "Signed out."
                : $"Signed out with {Count(_conversations.Count, "conversation")} and {Count(_offers.Count, "offer")}: the server keeps them for {GracePeriodLocked()} in case you come back, then returns them to their queues. /offline before /quit hands them back at once.");
        }

        return 0;
    }

    // ---------------------------------------------------------------- the event stream

    /// <summary>Opens Connect and applies its first event (always a sync); throws when that fails.</summary>
    private async Task<AsyncServerStreamingCall<AgentEvent>> ConnectAsync(
        AgentService.AgentServiceClient client, AgentProfile? profile, string heading, CancellationToken cancellationToken)
    {
        var call = client.Connect(new ConnectRequest { Profile = profile }, cancellationToken: cancellationToken);
        try
        {
            if (!await call.ResponseStream.MoveNext(cancellationToken))
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "The server ended the agent stream before its first event."));
            }
        }
        catch
        {
            call.Dispose();
            throw;
        }

        var first = call.ResponseStream.Current;
        if (first.EventCase == AgentEvent.EventOneofCase.Sync)
        {
            ApplySync(first.Sync, $"{heading} to {options.Address} as {options.AgentId}");
        }
        else
        {
            Apply(first);
        }

        return call;
    }

    /// <summary>Prints events until cancelled; reconnects after a stream error, up to <see cref="MaxReconnectAttempts"/> times.</summary>
    private async Task ReadEventsAsync(AgentService.AgentServiceClient client, AsyncServerStreamingCall<AgentEvent> call, CancellationToken cancellationToken)
    {
        var attemptsLeft = MaxReconnectAttempts;
        var connectedAt = _time.GetUtcNow();
        while (true)
        {
            RpcException failure;
            try
            {
                while (await call.ResponseStream.MoveNext(cancellationToken))
                {
                    Apply(call.ResponseStream.Current);
                }

                Print("! The server ended the event stream without an error; live events stopped. Commands still work; restart to reconnect.");
                return;
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or RpcException)
            {
                return;
            }
            catch (RpcException ex)
            {
                failure = ex;
            }
            finally
            {
                call.Dispose();
            }

            // The server ends a replaced stream with ABORTED: reconnecting would take the agent
            // back from the other desktop, which would then do the same.
            if (failure.StatusCode == StatusCode.Aborted)
            {
                Print($"! event stream ended: {failure.Status.Detail} Live events stopped here; /quit this terminal.");
                return;
            }

            Print($"! event stream lost: {failure.StatusCode}: {failure.Status.Detail}");
            if (_time.GetUtcNow() - connectedAt >= StableConnection)
            {
                attemptsLeft = MaxReconnectAttempts;
            }

            (var reconnected, attemptsLeft) = await ReconnectAsync(client, attemptsLeft, cancellationToken);
            if (reconnected is null)
            {
                return;
            }

            call = reconnected;
            connectedAt = _time.GetUtcNow();
        }
    }

    /// <summary>Connects again, waiting longer before each attempt; returns null after the last one failed.</summary>
    private async Task<(AsyncServerStreamingCall<AgentEvent>? Call, int AttemptsLeft)> ReconnectAsync(
        AgentService.AgentServiceClient client, int attemptsLeft, CancellationToken cancellationToken)
    {
        // Without a profile: the server keeps the stored one. Sent again only if the server has
        // none any more (a development silo restarted with in-memory storage).
        AgentProfile? profile = null;
        while (attemptsLeft > 0)
        {
            var attempt = MaxReconnectAttempts - attemptsLeft + 1;
            attemptsLeft--;

            // 1, 2, 4, 8 s, then every 10 s (95 s in all). The first four fit in the server's default
            // 30-s grace period. The rest outlast a dead silo that the cluster has not voted out yet:
            // until then, reconnecting to an agent whose grain lived there fails (78 s with Orleans'
            // default failure detection in the README's three-silo walkthrough).
            var delay = TimeSpan.FromSeconds(Math.Min(10, 1 << (attempt - 1)));
            Print($"  reconnecting in {delay.TotalSeconds:F0} s (attempt {attempt} of {MaxReconnectAttempts})…");
            try
            {
                await Task.Delay(delay, _time, cancellationToken);
                return (await ConnectAsync(client, profile, "Reconnected", cancellationToken), attemptsLeft);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or RpcException)
            {
                return (null, 0);
            }
            catch (RpcException ex)
            {
                Print($"  ! reconnect failed: {ex.StatusCode}: {ex.Status.Detail}");
                if (ex.StatusCode == StatusCode.FailedPrecondition && profile is null)
                {
                    profile = options.ToProfile();
                    Print("  the server does not know this agent any more: the next attempt signs in with the profile again.");
                }
            }
        }

        Print($"! Gave up reconnecting after {MaxReconnectAttempts} attempts; live events stopped. Commands still work; /quit and start again.");
        return (null, 0);
    }

    private void Apply(AgentEvent agentEvent)
    {
        switch (agentEvent.EventCase)
        {
            case AgentEvent.EventOneofCase.Sync:
                ApplySync(agentEvent.Sync, "Re-synced");
                break;
            case AgentEvent.EventOneofCase.Offer:
                ApplyOffer(agentEvent.Offer);
                break;
            case AgentEvent.EventOneofCase.OfferWithdrawn:
                ApplyWithdrawn(agentEvent.OfferWithdrawn);
                break;
            case AgentEvent.EventOneofCase.Assigned:
                ApplyAssigned(agentEvent.Assigned);
                break;
            case AgentEvent.EventOneofCase.Entries:
                ApplyEntries(agentEvent.Entries);
                break;
            case AgentEvent.EventOneofCase.Notice:
                ApplyNotice(agentEvent.Notice);
                break;
            case AgentEvent.EventOneofCase.Status:
                ApplyStatus(agentEvent.Status);
                break;
            default:
                // A newer server's event this client does not know: nothing to show.
                break;
        }
    }

    private void ApplySync(AgentSync sync, string heading)
    {
        lock (_gate)
        {
            var missed = new List<string>();
            _offers.Clear();
            foreach (var offer in sync.Offers)
            {
                _offers[offer.OfferId] = offer;
            }

            // Conversations already on screen: show what arrived while the stream was down.
            var shownBefore = new Dictionary<string, ulong>(_lastShown, StringComparer.Ordinal);
            _conversations.Clear();
            _lastShown.Clear();
            foreach (var assignment in sync.Assignments)
            {
                var id = assignment.ConversationId;
                _conversations[id] = assignment;
                _lastShown[id] = assignment.Context?.LastSequence ?? 0;
                if (shownBefore.TryGetValue(id, out var shown) && assignment.Context is { } context)
                {
                    missed.AddRange(context.LastEntries.Where(e => e.Sequence > shown).Select(e => DescribeEntry(id, e)).OfType<string>());
                }
            }

            _status = sync.Status;
            _settings = sync.Settings ?? _settings;
            if (_current is null || !_conversations.ContainsKey(_current))
            {
                _current = _conversations.Count == 1 ? _conversations.Keys.First() : null;
            }

            output.WriteLine($"{heading}: {StatusLine()}.");
            WriteListLocked();
            foreach (var line in missed)
            {
                output.WriteLine(line);
            }
        }
    }

    // An older server sends no settings: say what its default was.
    private string GracePeriodLocked() =>
        _settings is { } settings ? $"its {settings.DisconnectGracePeriodSeconds}-s grace period" : "its grace period (30 s by default)";

    private void ApplyOffer(Offer offer)
    {
        lock (_gate)
        {
            _offers[offer.OfferId] = offer;
            var number = OrderedOffers().FindIndex(o => o.OfferId == offer.OfferId) + 1;
            var context = offer.Context ?? new HandoffContext();
            output.WriteLine($"*** Offer {number} [{Short(offer.OfferId)}] from queue {offer.Queue}, priority {DescribePriority(offer.Priority)}, {DescribeExpiry(offer)}");
            output.WriteLine($"    customer: {DescribeCustomer(context)}");
            if (context.HandoffReason.Length > 0 || context.HandoffReasonCode.Length > 0)
            {
                var codes = context.HandoffReasonCodes.Count > 0 ? string.Join(", ", context.HandoffReasonCodes) : context.HandoffReasonCode;
                var signals = string.Join(" ", context.HandoffSignals.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"));
                output.WriteLine($"    why: {Clip(context.HandoffReason)} [{codes}]{(signals.Length > 0 ? $" {{{Clip(signals)}}}" : "")}");
            }

            if (context.BotSummary.Length > 0)
            {
                output.WriteLine($"    bot: {Clip(context.BotSummary)}");
            }

            foreach (var entry in context.LastEntries.Where(e => e.BodyCase == TimelineEntry.BodyOneofCase.Message).TakeLast(MessagesInContext))
            {
                output.WriteLine($"      {DescribeSender(entry.Message)}: {Clip(entry.Message.Text)}");
            }

            output.WriteLine($"    /accept {number} or /decline {number}");
        }
    }

    private void ApplyWithdrawn(OfferWithdrawn withdrawn)
    {
        lock (_gate)
        {
            _offers.Remove(withdrawn.OfferId);
            var why = withdrawn.Reason switch
            {
                WithdrawReason.TimedOut => "it timed out and went to the next agent",
                WithdrawReason.CustomerLeft => "the customer left",
                WithdrawReason.AgentUnavailable => "you are no longer available",
                _ => "no reason given",
            };
            output.WriteLine($"*** Offer [{Short(withdrawn.OfferId)}] withdrawn: {why}.");
        }
    }

    private void ApplyAssigned(Assignment assignment)
    {
        lock (_gate)
        {
            var id = assignment.ConversationId;
            RemoveOffersFor(id);
            var known = _conversations.ContainsKey(id);
            _conversations[id] = assignment;
            if (id == _acceptingConversation)
            {
                return; // /accept reports it, with what the customer wrote since the offer
            }

            _lastShown[id] = Math.Max(_lastShown.GetValueOrDefault(id), assignment.Context?.LastSequence ?? 0);
            if (known)
            {
                return;
            }

            _current ??= id;
            var context = assignment.Context ?? new HandoffContext();
            output.WriteLine($"*** Assigned conversation {ConversationNumber(id)} [{Short(id)}] ({context.Queue}): {DescribeCustomer(context)}{(_current == id ? " (current)" : "")}");
        }
    }

    private void ApplyEntries(ConversationEntries entries)
    {
        lock (_gate)
        {
            var id = entries.ConversationId;
            var shown = _lastShown.GetValueOrDefault(id);
            foreach (var entry in entries.Entries.Where(e => e.Sequence > shown))
            {
                if (DescribeEntry(id, entry) is { } line)
                {
                    output.WriteLine(line);
                }

                shown = entry.Sequence;
            }

            _lastShown[id] = shown;
        }
    }

    private void ApplyNotice(Notice notice)
    {
        lock (_gate)
        {
            var id = notice.ConversationId;
            if (!_conversations.ContainsKey(id))
            {
                return; // already let go here (e.g. the RESOLVED notice after this desk's own /resolve)
            }

            var what = notice.Kind switch
            {
                NoticeKind.CustomerLeft => "the customer left",
                NoticeKind.Resolved => "resolved",
                NoticeKind.ReturnedToQueue => "returned to its queue",
                _ => "no longer yours",
            };
            output.WriteLine($"[{Short(id)}] *** {what}{(notice.Detail.Length > 0 ? ": " + Clip(notice.Detail) : "")}");
            ForgetConversationLocked(id);
        }
    }

    private void ApplyStatus(AgentStatus status)
    {
        lock (_gate)
        {
            var before = _status?.Presence;
            _status = status;
            if (status.Presence == before || status.Presence == _requestedPresence)
            {
                return; // only load changed, or the presence command reports it
            }

            // The server says why when it changed the presence itself (e.g. after missed offers).
            var why = status.Reason.Length > 0 ? $" ({status.Reason.TrimEnd('.')})" : "";
            output.WriteLine(status.Presence switch
            {
                Presence.Away => $"*** You were set away{why}: no new offers. /available to take offers again.",
                Presence.Offline => $"*** You were set offline{why}: no offers, and your conversations went back to their queues. /available to come back.",
                _ => $"*** You are now {DescribePresence(status.Presence)}.",
            });
        }
    }

    // ---------------------------------------------------------------- commands

    private async Task RunCommandsAsync(AgentService.AgentServiceClient client, CancellationToken cancellationToken)
    {
        while (await ReadLineAsync(cancellationToken) is { } line)
        {
            var text = line.Trim();
            if (text.Length == 0)
            {
                continue;
            }

            if (!text.StartsWith('/') || text.StartsWith("//", StringComparison.Ordinal))
            {
                await SendAsync(client, text.StartsWith("//", StringComparison.Ordinal) ? text[1..] : text, cancellationToken);
                continue;
            }

            var (verb, rest) = SplitWord(text);
            switch (verb)
            {
                case "/quit":
                    return;
                case "/help":
                    Print(Help);
                    break;
                case "/list":
                    lock (_gate)
                    {
                        output.WriteLine(StatusLine());
                        WriteListLocked();
                    }

                    break;
                case "/accept":
                    await AcceptAsync(client, rest, cancellationToken);
                    break;
                case "/decline":
                    await DeclineAsync(client, rest, cancellationToken);
                    break;
                case "/use":
                    Use(rest);
                    break;
                case "/transcript":
                    await PrintTranscriptAsync(client, cancellationToken);
                    break;
                case "/transfer":
                    await TransferAsync(client, rest, cancellationToken);
                    break;
                case "/resolve":
                    await ResolveAsync(client, rest, cancellationToken);
                    break;
                case "/bot":
                    await HandBackAsync(client, rest, cancellationToken);
                    break;
                case "/available":
                    await SetPresenceAsync(client, Presence.Available, cancellationToken);
                    break;
                case "/away":
                    await SetPresenceAsync(client, Presence.Away, cancellationToken);
                    break;
                case "/offline":
                    await SetPresenceAsync(client, Presence.Offline, cancellationToken);
                    break;
                case "/stats":
                    await PrintStatsAsync(client, cancellationToken);
                    break;
                default:
                    Print($"Unknown command '{verb}'.", Help);
                    break;
            }
        }
    }

    // Console.In reads block and ignore the token: read on the pool so Ctrl+C can leave the wait.
    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken) =>
        await Task.Run(input.ReadLine, CancellationToken.None).WaitAsync(cancellationToken);

    private async Task AcceptAsync(AgentService.AgentServiceClient client, string argument, CancellationToken cancellationToken)
    {
        Offer? offer;
        lock (_gate)
        {
            offer = PickOfferLocked(argument);
            _acceptingConversation = offer?.Context?.ConversationId;
        }

        if (offer is null)
        {
            return;
        }

        try
        {
            var assignment = await CallAsync(client.AcceptOfferAsync(new AcceptOfferRequest { OfferId = offer.OfferId }, cancellationToken: cancellationToken), cancellationToken);
            lock (_gate)
            {
                if (assignment is null)
                {
                    DropStaleOfferLocked(offer);
                    return;
                }

                var id = assignment.ConversationId;
                RemoveOffersFor(id);
                _offers.Remove(offer.OfferId);
                _conversations[id] = assignment;
                _current = id;
                var context = assignment.Context ?? new HandoffContext();
                output.WriteLine($"Accepted: conversation {ConversationNumber(id)} [{Short(id)}] ({context.Queue}, {DescribeCustomer(context)}) is now current.");

                // What the customer wrote since the offer was shown.
                var shown = Math.Max(_lastShown.GetValueOrDefault(id), offer.Context?.LastSequence ?? 0);
                foreach (var entry in context.LastEntries.Where(e => e.Sequence > shown))
                {
                    if (DescribeEntry(id, entry) is { } line)
                    {
                        output.WriteLine(line);
                    }
                }

                _lastShown[id] = Math.Max(shown, context.LastSequence);
            }
        }
        finally
        {
            lock (_gate)
            {
                _acceptingConversation = null;
            }
        }
    }

    private async Task DeclineAsync(AgentService.AgentServiceClient client, string argument, CancellationToken cancellationToken)
    {
        Offer? offer;
        lock (_gate)
        {
            offer = PickOfferLocked(argument);
        }

        if (offer is null)
        {
            return;
        }

        var declined = await CallAsync(client.DeclineOfferAsync(new DeclineOfferRequest { OfferId = offer.OfferId }, cancellationToken: cancellationToken), cancellationToken);
        lock (_gate)
        {
            if (declined is null)
            {
                DropStaleOfferLocked(offer);
                return;
            }

            _offers.Remove(offer.OfferId);
            output.WriteLine($"Declined offer [{Short(offer.OfferId)}]: it goes to the next agent.");
        }
    }

    private void Use(string argument)
    {
        lock (_gate)
        {
            var conversations = OrderedConversations();
            if (conversations.Count == 0)
            {
                output.WriteLine("You have no conversations: /accept an offer first.");
                return;
            }

            // Unlike /accept, no default: switching to an arbitrary conversation would surprise.
            if (argument.Length == 0 || Pick(conversations, argument, a => a.ConversationId) is not { } chosen)
            {
                output.WriteLine($"Usage: /use n, with n from 1 to {conversations.Count} (see /list), or a conversation's short id.");
                return;
            }

            _current = chosen.ConversationId;
            var context = chosen.Context ?? new HandoffContext();
            output.WriteLine($"Current conversation: {ConversationNumber(_current)} [{Short(_current)}] ({context.Queue}, {DescribeCustomer(context)}). /transcript shows it all.");
        }
    }

    private async Task SendAsync(AgentService.AgentServiceClient client, string text, CancellationToken cancellationToken)
    {
        if (CurrentOrExplain() is not { } conversationId)
        {
            return;
        }

        // Unique per message: the server stores a resend of the same id once.
        var request = new AgentMessageRequest { ConversationId = conversationId, MessageId = Guid.CreateVersion7().ToString("N"), Text = text };
        if (await CallAsync(client.SendMessageAsync(request, cancellationToken: cancellationToken), cancellationToken) is { } response)
        {
            Print($"  sent [{Short(conversationId)}] #{response.Entry?.Sequence}");
        }
    }

    private async Task PrintTranscriptAsync(AgentService.AgentServiceClient client, CancellationToken cancellationToken)
    {
        if (CurrentOrExplain() is not { } conversationId)
        {
            return;
        }

        // One read returns at most 500 entries: page until the conversation's last sequence.
        var request = new AgentTranscriptRequest { ConversationId = conversationId };
        var lines = new List<string> { $"Transcript of [{Short(conversationId)}]:" };
        AgentTranscriptResponse? page;
        do
        {
            page = await CallAsync(client.GetTranscriptAsync(request, cancellationToken: cancellationToken), cancellationToken);
            if (page is null)
            {
                return;
            }

            foreach (var entry in page.Entries)
            {
                var time = entry.Time is { } t ? TimeZoneInfo.ConvertTime(t.ToDateTimeOffset(), _time.LocalTimeZone).ToString("HH:mm:ss", CultureInfo.InvariantCulture) : "--:--:--";
                var body = entry.BodyCase == TimelineEntry.BodyOneofCase.Message
                    ? $"{DescribeSender(entry.Message)}: {entry.Message.Text}"
                    : $"-- {DescribeStatus(entry.Status)}";
                lines.Add($"  #{entry.Sequence} {time} {body}");
                request.AfterSequence = entry.Sequence;
            }
        }
        while (page.Entries.Count > 0 && request.AfterSequence < page.LastSequence);

        Print([.. lines]);
    }

    private async Task TransferAsync(AgentService.AgentServiceClient client, string arguments, CancellationToken cancellationToken)
    {
        var (request, error) = ParseTransfer(arguments);
        if (request is null)
        {
            Print(error!);
            return;
        }

        if (CurrentOrExplain() is not { } conversationId)
        {
            return;
        }

        request.ConversationId = conversationId;
        if (await CallAsync(client.TransferAsync(request, cancellationToken: cancellationToken), cancellationToken) is null)
        {
            return;
        }

        var target = request.TargetCase == TransferRequest.TargetOneofCase.AgentId
            ? $"agent {request.AgentId} (if they decline or miss the offer, the next agent of the queue gets it)"
            : $"queue {request.Queue.Skill}{(request.Queue.Language.Length > 0 ? ":" + request.Queue.Language : " (in the conversation's language)")}";
        LetGo(conversationId, $"Transferred [{Short(conversationId)}] to {target}.");
    }

    private async Task ResolveAsync(AgentService.AgentServiceClient client, string arguments, CancellationToken cancellationToken)
    {
        var (code, note) = SplitWord(arguments);
        if (code.Length == 0)
        {
            Print("Usage: /resolve CODE [note…], e.g. /resolve refund-issued Refund sent to the card.");
            return;
        }

        if (CurrentOrExplain() is not { } conversationId)
        {
            return;
        }

        var request = new ResolveRequest { ConversationId = conversationId, WrapUpCode = code, Note = note };
        if (await CallAsync(client.ResolveAsync(request, cancellationToken: cancellationToken), cancellationToken) is not null)
        {
            LetGo(conversationId, $"Resolved [{Short(conversationId)}] ({code}).");
        }
    }

    private async Task HandBackAsync(AgentService.AgentServiceClient client, string note, CancellationToken cancellationToken)
    {
        if (CurrentOrExplain() is not { } conversationId)
        {
            return;
        }

        var request = new HandBackRequest { ConversationId = conversationId, Note = note };
        if (await CallAsync(client.HandBackToBotAsync(request, cancellationToken: cancellationToken), cancellationToken) is not null)
        {
            LetGo(conversationId, $"Handed [{Short(conversationId)}] back to the bot.");
        }
    }

    private async Task SetPresenceAsync(AgentService.AgentServiceClient client, Presence presence, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _requestedPresence = presence;
        }

        try
        {
            var status = await CallAsync(client.SetPresenceAsync(new SetPresenceRequest { Presence = presence }, cancellationToken: cancellationToken), cancellationToken);
            if (status is not null)
            {
                lock (_gate)
                {
                    _status = status;
                    output.WriteLine(status.Presence switch
                    {
                        Presence.Available => $"You are now available: offers come in up to your capacity ({options.Capacity}).",
                        Presence.Away => "You are now away: you keep your conversations, no new offers.",
                        Presence.Offline => "You are now offline: no offers, and your conversations go back to their queues.",
                        _ => $"You are now {DescribePresence(status.Presence)}.",
                    });
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _requestedPresence = null;
            }
        }
    }

    private async Task PrintStatsAsync(AgentService.AgentServiceClient client, CancellationToken cancellationToken)
    {
        if (await CallAsync(client.GetQueueStatsAsync(new GetQueueStatsRequest(), cancellationToken: cancellationToken), cancellationToken) is not { } response)
        {
            return;
        }

        if (response.Queues.Count == 0)
        {
            Print("No queues.");
            return;
        }

        string[] header = ["queue", "waiting", "longest", "est. wait", "available", "busy", "service level", "answered", "abandoned"];
        var rows = response.Queues.OrderBy(q => q.Queue, StringComparer.Ordinal).Select(q => new[]
        {
            q.Queue,
            q.Waiting.ToString(CultureInfo.InvariantCulture),
            $"{q.LongestWaitSeconds} s",
            q.HasEstimate ? $"{q.EstimatedWaitSeconds} s" : "-",
            q.AgentsAvailable.ToString(CultureInfo.InvariantCulture),
            q.AgentsBusy.ToString(CultureInfo.InvariantCulture),
            q.HasServiceLevel ? $"{q.ServiceLevel.ToString("P0", CultureInfo.InvariantCulture)} in {q.ServiceLevelThresholdSeconds} s" : "-",
            q.Answered.ToString(CultureInfo.InvariantCulture),
            q.Abandoned.ToString(CultureInfo.InvariantCulture),
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();

        // The queue name reads left-aligned, the figures right-aligned.
        string Row(string[] cells) => "  " + string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i])));
        Print([Row(header), .. rows.Select(Row)]);
    }

    /// <summary>Awaits a unary call; prints a gRPC error and returns null instead of throwing it.</summary>
    private async Task<T?> CallAsync<T>(AsyncUnaryCall<T> call, CancellationToken cancellationToken)
        where T : class
    {
        using (call)
        {
            try
            {
                return await call;
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                Print($"error: {ex.StatusCode}: {ex.Status.Detail}");
                return null;
            }
        }
    }

    // ---------------------------------------------------------------- parsing (pure)

    /// <summary>
    /// Parses the arguments of /transfer: "queue SKILL [LANG] [note…]" or "agent AGENT_ID [note…]".
    /// After SKILL, a two-letter word is the language and "-" means the conversation's own.
    /// </summary>
    internal static (TransferRequest? Request, string? Error) ParseTransfer(string arguments)
    {
        const string usage = "Usage: /transfer queue SKILL [LANG] [note…]  or  /transfer agent AGENT_ID [note…]";
        var (kind, rest) = SplitWord(arguments);
        var (target, afterTarget) = SplitWord(rest);
        if (target.Length == 0)
        {
            return (null, usage);
        }

        switch (kind)
        {
            case "queue":
                var queue = new QueueAddress { Skill = target };
                var (maybeLanguage, afterLanguage) = SplitWord(afterTarget);
                var note = afterTarget;
                if (maybeLanguage == "-" || (maybeLanguage.Length == 2 && maybeLanguage.All(char.IsAsciiLetter)))
                {
                    queue.Language = maybeLanguage == "-" ? "" : maybeLanguage.ToLowerInvariant();
                    note = afterLanguage;
                }

                return (new TransferRequest { Queue = queue, Note = note }, null);
            case "agent":
                return (new TransferRequest { AgentId = target, Note = afterTarget }, null);
            default:
                return (null, usage);
        }
    }

    /// <summary>Splits off the first word: ("/resolve", "refund-issued Sent to card").</summary>
    internal static (string Word, string Remainder) SplitWord(string text)
    {
        text = text.Trim();
        var space = text.IndexOfAny([' ', '\t']);
        return space < 0 ? (text, "") : (text[..space], text[(space + 1)..].Trim());
    }

    /// <summary>
    /// The item a command argument names: empty = the first, a number = its 1-based position, else
    /// the item whose id ends with the argument (the short id printed on screen); null if none or ambiguous.
    /// </summary>
    internal static T? Pick<T>(IReadOnlyList<T> items, string argument, Func<T, string> id)
        where T : class
    {
        if (argument.Length == 0)
        {
            return items.Count > 0 ? items[0] : null;
        }

        if (int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number >= 1 && number <= items.Count ? items[number - 1] : null;
        }

        var matches = items.Where(i => id(i).EndsWith(argument, StringComparison.OrdinalIgnoreCase)).Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>
    /// The last characters of an id. Ids are version-7 GUIDs: their leading characters are a
    /// timestamp shared by ids made close together, the trailing ones are random.
    /// </summary>
    internal static string Short(string id) => id.Length <= 6 ? id : id[^6..];

    // ---------------------------------------------------------------- state helpers (call under _gate)

    private Offer? PickOfferLocked(string argument)
    {
        var offers = OrderedOffers();
        if (offers.Count == 0)
        {
            output.WriteLine("No pending offers.");
            return null;
        }

        var offer = Pick(offers, argument, o => o.OfferId);
        if (offer is null)
        {
            output.WriteLine($"No offer '{argument}': give a number from 1 to {offers.Count} (see /list) or an offer's short id.");
        }

        return offer;
    }

    // FAILED_PRECONDITION on an offer means it is no longer pending: stop listing it.
    private void DropStaleOfferLocked(Offer offer)
    {
        if (_offers.Remove(offer.OfferId))
        {
            output.WriteLine($"  offer [{Short(offer.OfferId)}] removed from your list.");
        }
    }

    private void RemoveOffersFor(string conversationId)
    {
        foreach (var stale in _offers.Values.Where(o => o.Context?.ConversationId == conversationId).ToList())
        {
            _offers.Remove(stale.OfferId);
        }
    }

    /// <summary>After a transfer, resolve or hand-back: the conversation is no longer the agent's.</summary>
    private void LetGo(string conversationId, string message)
    {
        lock (_gate)
        {
            output.WriteLine(message);
            ForgetConversationLocked(conversationId);
        }
    }

    private void ForgetConversationLocked(string conversationId)
    {
        _conversations.Remove(conversationId);
        _lastShown.Remove(conversationId);
        if (_current != conversationId)
        {
            return;
        }

        // With one conversation left there is no doubt which one the next line is for.
        _current = _conversations.Count == 1 ? _conversations.Keys.First() : null;
        output.WriteLine(_current is not null
            ? $"  current conversation is now [{Short(_current)}]."
            : _conversations.Count > 0 ? "  no current conversation: /use n (see /list)." : "  no conversations left.");
    }

    private string? CurrentOrExplain()
    {
        lock (_gate)
        {
            if (_current is null)
            {
                output.WriteLine(_conversations.Count > 0
                    ? "No current conversation: choose one with /use n (see /list)."
                    : "No current conversation: /accept an offer first.");
            }

            return _current;
        }
    }

    private List<Offer> OrderedOffers() =>
        [.. _offers.Values.OrderBy(o => o.ExpiresAt?.ToDateTimeOffset() ?? DateTimeOffset.MaxValue).ThenBy(o => o.OfferId, StringComparer.Ordinal)];

    private List<Assignment> OrderedConversations() =>
        [.. _conversations.Values.OrderBy(a => a.AssignedAt?.ToDateTimeOffset() ?? DateTimeOffset.MaxValue).ThenBy(a => a.ConversationId, StringComparer.Ordinal)];

    private int ConversationNumber(string conversationId) => OrderedConversations().FindIndex(a => a.ConversationId == conversationId) + 1;

    private void WriteListLocked()
    {
        var offers = OrderedOffers();
        if (offers.Count > 0)
        {
            output.WriteLine("  offers:");
            for (var i = 0; i < offers.Count; i++)
            {
                var context = offers[i].Context ?? new HandoffContext();
                output.WriteLine($"    {i + 1}. [{Short(offers[i].OfferId)}] {offers[i].Queue}, priority {DescribePriority(offers[i].Priority)}, {DescribeCustomer(context)}, {DescribeExpiry(offers[i])}");
            }
        }

        var conversations = OrderedConversations();
        if (conversations.Count > 0)
        {
            output.WriteLine("  conversations:");
            for (var i = 0; i < conversations.Count; i++)
            {
                var assignment = conversations[i];
                var context = assignment.Context ?? new HandoffContext();
                var since = assignment.AssignedAt is { } at
                    ? $", since {TimeZoneInfo.ConvertTime(at.ToDateTimeOffset(), _time.LocalTimeZone).ToString("HH:mm", CultureInfo.InvariantCulture)}"
                    : "";
                var marker = assignment.ConversationId == _current ? "*" : " ";
                output.WriteLine($"  {marker} {i + 1}. [{Short(assignment.ConversationId)}] {context.Queue}, {DescribeCustomer(context)}{since}");
            }
        }
    }

    private string StatusLine()
    {
        var presence = _status is null ? "unknown" : DescribePresence(_status.Presence);
        return $"{presence}, {Count(_offers.Count, "pending offer")}, {Count(_conversations.Count, "conversation")} (capacity {options.Capacity})";
    }

    private string DescribeExpiry(Offer offer)
    {
        if (offer.ExpiresAt is null)
        {
            return "no expiry given";
        }

        var left = offer.ExpiresAt.ToDateTimeOffset() - _time.GetUtcNow();
        return left > TimeSpan.Zero ? $"expires in {Math.Ceiling(left.TotalSeconds):F0} s" : "expired";
    }

    /// <summary>A timeline entry as one line, or null for the agent's own messages (already shown when sent).</summary>
    private string? DescribeEntry(string conversationId, TimelineEntry entry) => entry.BodyCase switch
    {
        TimelineEntry.BodyOneofCase.Message when entry.Message.Sender == SenderKind.Agent && entry.Message.SenderId == options.AgentId => null,
        TimelineEntry.BodyOneofCase.Message => $"[{Short(conversationId)}] {DescribeSender(entry.Message)}: {entry.Message.Text}",
        TimelineEntry.BodyOneofCase.Status => $"[{Short(conversationId)}] -- {DescribeStatus(entry.Status)} (#{entry.Sequence})",
        _ => null,
    };

    private static string DescribeSender(ChatMessage message) => message.Sender switch
    {
        SenderKind.Customer => "customer",
        SenderKind.Bot => "bot",
        SenderKind.Agent => message.SenderId.Length > 0 ? $"agent {message.SenderId}" : "agent",
        SenderKind.System => "system",
        _ => "?",
    };

    private static string DescribeStatus(StatusEvent status)
    {
        var text = new StringBuilder(status.Kind switch
        {
            StatusKind.Started => "started",
            StatusKind.Queued => "queued",
            StatusKind.AgentJoined => "agent joined",
            StatusKind.Resolved => "resolved",
            StatusKind.Closed => "closed",
            StatusKind.BotResumed => "back with the bot",
            _ => "status",
        });
        // The detail is a sentence for the customer that already says what the fields say.
        if (status.Detail.Length > 0)
        {
            text.Append(": ").Append(status.Detail);
        }
        else if (status.Kind == StatusKind.AgentJoined && status.AgentName.Length > 0)
        {
            text.Append(": ").Append(status.AgentName);
        }
        else if (status.Kind == StatusKind.Queued && status.QueuePosition > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" (position {status.QueuePosition}{(status.EstimatedWaitSeconds > 0 ? $", ~{status.EstimatedWaitSeconds} s" : "")})");
        }

        return text.ToString();
    }

    private static string DescribeCustomer(HandoffContext context)
    {
        var text = new StringBuilder(context.CustomerName.Length > 0 ? context.CustomerName : context.CustomerId);
        if (context.CustomerTier == CustomerTier.Vip)
        {
            text.Append(" (VIP)");
        }

        if (context.Language.Length > 0)
        {
            text.Append(", ").Append(context.Language);
        }

        if (context.Channel.Length > 0)
        {
            text.Append(", on ").Append(context.Channel);
        }

        if (context.PreviousContacts > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {Count((int)context.PreviousContacts, "earlier contact")}");
        }

        return text.ToString();
    }

    // The meanings documented with Offer.priority in agent.proto.
    private static string DescribePriority(int priority) => priority switch
    {
        0 => "0 (normal)",
        10 => "10 (escalated after bot failures)",
        20 => "20 (transfer)",
        30 => "30 (VIP)",
        100 => "100 (returned)",
        _ => priority.ToString(CultureInfo.InvariantCulture),
    };

    private static string DescribePresence(Presence presence) => presence switch
    {
        Presence.Available => "available",
        Presence.Away => "away",
        Presence.Offline => "offline",
        _ => "unknown",
    };

    private static string Count(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";

    private static string Clip(string text) => text.Length <= MaxShownTextLength ? text : text[..MaxShownTextLength] + "…";

    private void Print(params string[] lines)
    {
        lock (_gate)
        {
            foreach (var line in lines)
            {
                output.WriteLine(line);
            }
        }
    }
}
