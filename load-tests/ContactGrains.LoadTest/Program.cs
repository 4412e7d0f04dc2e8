using ContactGrains.LoadTest;

const string Usage = """
    Usage:
      contactgrains-load channel [--address http://127.0.0.1:5000] [--streams 4] [--conversations 1000]
                                 [--turns 5] [--max-seconds 120] [--silo-pid PID]
          Drives the channel API like adapters do: each stream carries its share of the conversations,
          every conversation asks --turns questions. Checks every ack and that every conversation's
          entries arrive in order with no gap. Loopback addresses only; stops after --max-seconds.
      contactgrains-load bot [--iterations 200000]
          Times the knowledge-base bot's matcher, the signal detector and a whole judged turn (bot,
          detector, ownership policy) on a fixed mix of questions, in-process.
      contactgrains-load judgement
          Replays the labelled judgement table through the bot, the signal detector and the ownership
          policy: must-human recall, routine containment and false handoffs, per language and reason.
      contactgrains-load growth [--address http://127.0.0.1:5000] [--iterations 2000] [--max-seconds 120]
          Grows one conversation to --iterations messages, one at a time, and prints the time per
          message for every 100: flat figures mean storing a message does not get dearer as the
          conversation grows.
      contactgrains-load handoff [--address http://127.0.0.1:5000] [--conversations 1000] [--agents 10] [--max-seconds 120]
          Every conversation asks for a human at once; --agents desktops (capacity 3) accept every
          offer as it arrives, answer once and resolve. Prints handoffs per second and the speed to
          answer; checks that no agent exceeds its capacity and every conversation is resolved once.
    """;

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

var options = LoadOptions.Parse(args.AsSpan(1).ToArray());
if (options.Error is { } error)
{
    Console.Error.WriteLine($"{error}\n{Usage}");
    return 2;
}

return args[0] switch
{
    "channel" => await ChannelLoad.RunAsync(options),
    "bot" => await BotBenchmark.RunAsync(options),
    "judgement" => await JudgementReport.RunAsync(options),
    "growth" => await GrowthBenchmark.RunAsync(options),
    "handoff" => await HandoffLoad.RunAsync(options),
    _ => Fail($"Unknown command '{args[0]}'.\n{Usage}"),
};

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
