using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using ContactGrains.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ContactGrains.Cli;

/// <summary>
/// What the agent desk shows, through Spectre.Console: offers as panels, lists and queue figures as
/// tables, colored notices. In a terminal it uses colors and wraps to the window; redirected (a pipe,
/// a file, a test) it writes plain text with one line per message.
/// </summary>
/// <remarks>
/// Text from the server (customer messages and names, bot summaries, notices) is never relayed raw:
/// <see cref="Clean"/> replaces control characters (ANSI escapes, carriage returns, bidi overrides),
/// and markup holes are escaped, so '[' and ']' print as typed. Each call writes whole lines under one
/// lock: the event stream and the command loop never interleave within a block.
/// </remarks>
internal sealed class DeskView
{
    private const int MaxShownTextLength = 300;

    // C0 and C1 control characters (ESC starts ANSI sequences) and the bidirectional controls that reorder text on screen.
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Select(c => (char)c), .. "\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069"]);

    private readonly IAnsiConsole _console;
    private readonly Lock _lock = new();

    public DeskView(TextWriter output, TimeProvider time)
    {
        Time = time;
        var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!terminal)
        {
            _console.Profile.Width = 4096; // a log or a pipe: a message stays on one line, for grep and for scripts
        }
    }

    public TimeProvider Time { get; }

    /// <summary>Replaces control characters: whitespace ones by a space, the others by U+FFFD.</summary>
    internal static string Clean(string text) => !text.AsSpan().ContainsAny(Unsafe) ? text : string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = !Unsafe.Contains(source[i]) ? source[i] : char.IsWhiteSpace(source[i]) ? ' ' : '\uFFFD';
        }
    });

    /// <summary>Writes one line of markup; every string in its holes is cleaned and escaped (holes never carry markup).</summary>
    public void Line(FormattableString markup)
    {
        var args = markup.GetArguments().Select(a => a is string s ? Clean(s) : a).ToArray();
        lock (_lock)
        {
            try
            {
                _console.MarkupLineInterpolated(CultureInfo.InvariantCulture, FormattableStringFactory.Create(markup.Format, args));
            }
            catch (InvalidOperationException)
            {
                // A '[' in this program's own text that is not a style: show the line as plain text rather than lose the session.
                _console.WriteLine(Clean(string.Format(CultureInfo.InvariantCulture, markup.Format, args)));
            }
        }
    }

    public void Notice(FormattableString text) => Line(FormattableStringFactory.Create("[yellow]***[/] " + text.Format, text.GetArguments()));

    public void Error(FormattableString text) => Line(FormattableStringFactory.Create("[red]![/] " + text.Format, text.GetArguments()));

    public void Write(params IRenderable[] blocks)
    {
        lock (_lock)
        {
            foreach (var block in blocks)
            {
                _console.Write(block);
            }
        }
    }

    public void Offer(Offer offer, int number)
    {
        var context = offer.Context ?? new HandoffContext();
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        Row(grid, "customer", DescribeCustomer(context));
        if (context.HandoffReason.Length > 0 || context.HandoffReasonCode.Length > 0)
        {
            var codes = context.HandoffReasonCodes.Count > 0 ? string.Join(", ", context.HandoffReasonCodes) : context.HandoffReasonCode;
            var signals = string.Join(" ", context.HandoffSignals.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"));
            Row(grid, "why", $"{Clip(context.HandoffReason)} [{codes}]{(signals.Length > 0 ? $" {{{Clip(signals)}}}" : "")}");
        }

        if (context.BotSummary.Length > 0)
        {
            Row(grid, "bot", Clip(context.BotSummary));
        }

        foreach (var entry in context.LastEntries.Where(e => e.Message is not null).TakeLast(5))
        {
            Row(grid, $"  {DescribeSender(entry.Message)}", Clip(entry.Message.Text));
        }

        var title = $"Offer {number} {DeskState.Tag(offer.OfferId)} from queue {offer.Queue}, priority {DescribePriority(offer.Priority)}, {DescribeExpiry(offer)}";
        Write(new Panel(grid) { Header = new PanelHeader(Escape(title)), Border = BoxBorder.Rounded, BorderStyle = Color.Yellow });
        Line($"    [bold]/accept {number}[/] or [bold]/decline {number}[/]");
    }

    public void List(string? status, IReadOnlyList<Offer> offers, IReadOnlyList<Assignment> conversations, string? current)
    {
        if (status is not null)
        {
            Line($"{status}");
        }

        if (offers.Count > 0)
        {
            Write(Table("offers", ["#", "offer", "queue", "priority", "customer", "expires"], offers.Select((o, i) => new[]
            {
                $"{i + 1}", DeskState.Short(o.OfferId), o.Queue, DescribePriority(o.Priority), DescribeCustomer(o.Context ?? new()), DescribeExpiry(o),
            })));
        }

        if (conversations.Count > 0)
        {
            Write(Table("conversations (* = current)", ["#", "conversation", "queue", "customer", "since"], conversations.Select((a, i) => new[]
            {
                $"{(a.ConversationId == current ? "*" : " ")}{i + 1}", DeskState.Short(a.ConversationId), a.Context?.Queue ?? "", DescribeCustomer(a.Context ?? new()),
                a.AssignedAt is { } at ? LocalTime(at, "HH:mm") : "",
            })));
        }
    }

    public void Stats(IReadOnlyList<QueueStats> queues)
    {
        var table = Table("queues", ["queue", "waiting", "longest", "est. wait", "available", "busy", "service level", "answered", "abandoned"], queues
            .OrderBy(q => q.Queue, StringComparer.Ordinal)
            .Select(q => new[]
            {
                q.Queue, $"{q.Waiting}", $"{q.LongestWaitSeconds} s", q.HasEstimate ? $"{q.EstimatedWaitSeconds} s" : "-", $"{q.AgentsAvailable}", $"{q.AgentsBusy}",
                q.HasServiceLevel ? $"{q.ServiceLevel.ToString("P0", CultureInfo.InvariantCulture)} in {q.ServiceLevelThresholdSeconds} s" : "-", $"{q.Answered}", $"{q.Abandoned}",
            }));
        foreach (var column in table.Columns.Skip(1))
        {
            column.RightAligned(); // the queue name reads left-aligned, the figures right-aligned
        }

        Write(table);
    }

    /// <summary>A timeline entry of a conversation, on one line.</summary>
    public void Entry(string conversationId, TimelineEntry entry)
    {
        var id = DeskState.Tag(conversationId);
        if (entry.Message is { } message)
        {
            var color = message.Sender switch { SenderKind.Customer => "cyan", SenderKind.Agent => "magenta", _ => "blue" };
            Line($"[grey]{id}[/] [{color}]{DescribeSender(message)}[/]: {message.Text}");
        }
        else if (entry.Status is { } status)
        {
            Line($"[grey]{id} -- {DescribeStatus(status)} (#{entry.Sequence})[/]");
        }
    }

    /// <summary>Trusted text of several lines (help), printed as is.</summary>
    public void Plain(string text)
    {
        lock (_lock)
        {
            foreach (var line in text.Split('\n'))
            {
                Line($"{line}");
            }
        }
    }

    public void Transcript(string conversationId, IReadOnlyList<TimelineEntry> entries)
    {
        lock (_lock)
        {
            Line($"Transcript of {DeskState.Tag(conversationId)}:");
            foreach (var entry in entries)
            {
                var time = entry.Time is { } t ? LocalTime(t, "HH:mm:ss") : "--:--:--";
                var body = entry.Message is { } message ? $"{DescribeSender(message)}: {message.Text}" : $"-- {DescribeStatus(entry.Status ?? new())}";
                Line($"  #{entry.Sequence} [grey]{time}[/] {body}");
            }
        }
    }

    public static string DescribeCustomer(HandoffContext context)
    {
        var parts = new List<string> { context.CustomerName.Length > 0 ? context.CustomerName : context.CustomerId };
        parts[0] += context.CustomerTier == CustomerTier.Vip ? " (VIP)" : "";
        if (context.Language.Length > 0)
        {
            parts.Add(context.Language);
        }

        if (context.Channel.Length > 0)
        {
            parts.Add($"on {context.Channel}");
        }

        if (context.PreviousContacts > 0)
        {
            parts.Add(Count((int)context.PreviousContacts, "earlier contact"));
        }

        return string.Join(", ", parts);
    }

    public static string DescribePresence(Presence? presence) => presence switch
    {
        Presence.Available => "available",
        Presence.Away => "away",
        Presence.Offline => "offline",
        _ => "unknown",
    };

    public static string Count(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";

    public static string Clip(string text) => text.Length <= MaxShownTextLength ? text : text[..MaxShownTextLength] + "…";

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
        var kind = status.Kind switch
        {
            StatusKind.Started => "started",
            StatusKind.Queued => "queued",
            StatusKind.AgentJoined => "agent joined",
            StatusKind.Resolved => "resolved",
            StatusKind.Closed => "closed",
            StatusKind.BotResumed => "back with the bot",
            StatusKind.RatingRequested => "rating asked",
            StatusKind.RatingReceived => "rated",
            _ => "status",
        };

        // The detail is a sentence for the customer that already says what the fields say.
        return status switch
        {
            { Detail.Length: > 0 } => $"{kind}: {status.Detail}",
            { Kind: StatusKind.AgentJoined, AgentName.Length: > 0 } => $"{kind}: {status.AgentName}",
            { Kind: StatusKind.Queued, QueuePosition: > 0 } =>
                $"{kind} (position {status.QueuePosition}{(status.EstimatedWaitSeconds > 0 ? $", ~{status.EstimatedWaitSeconds} s" : "")})",
            _ => kind,
        };
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

    private string DescribeExpiry(Offer offer)
    {
        if (offer.ExpiresAt is null)
        {
            return "no expiry given";
        }

        var left = offer.ExpiresAt.ToDateTimeOffset() - Time.GetUtcNow();
        return left > TimeSpan.Zero ? $"expires in {Math.Ceiling(left.TotalSeconds):F0} s" : "expired";
    }

    private string LocalTime(Google.Protobuf.WellKnownTypes.Timestamp time, string format) =>
        TimeZoneInfo.ConvertTime(time.ToDateTimeOffset(), Time.LocalTimeZone).ToString(format, CultureInfo.InvariantCulture);

    private static string Escape(string text) => Markup.Escape(Clean(text));

    private static void Row(Grid grid, string label, string text) => grid.AddRow(new Text(label, new Style(Color.Grey)), new Text(Clean(text)));

    private static Table Table(string title, string[] headers, IEnumerable<string[]> rows)
    {
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Rounded };
        table.AddColumns([.. headers.Select(h => new TableColumn(h))]);
        foreach (var row in rows)
        {
            table.AddRow([.. row.Select(cell => new Text(Clean(cell)))]);
        }

        return table;
    }
}
