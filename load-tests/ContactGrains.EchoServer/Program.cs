using ContactGrains.EchoServer;

// The channel API's ceiling: see EchoTimeline for what it answers. Loopback only; --urls sets the
// address (default http://127.0.0.1:0, any free port), printed once it listens.
var builder = WebApplication.CreateBuilder(args);
if (!builder.TryAddEchoServer(Console.Error))
{
    return 2;
}

var app = builder.Build();
app.MapEchoServer();
await app.StartAsync();
Console.WriteLine($"{EchoHosting.ListeningPrefix}{string.Join(' ', app.Urls)}");
await app.WaitForShutdownAsync();
return 0;
