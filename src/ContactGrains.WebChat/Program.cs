using ContactGrains.WebChat.Hosting;

// Content root is the app's folder, so the app runs the same from any working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
if (!builder.TryAddWebChat(Console.Error))
{
    return 1;
}

var app = builder.Build();
app.MapWebChat();
await app.RunAsync();
return 0;
