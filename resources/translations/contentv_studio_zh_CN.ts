<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>App</name>
    <message>
        <source>Starting {name}…</source>
        <translation>正在启动 {name}…</translation>
    </message>
</context>
<context>
    <name>BatchControls</name>
    <message>
        <source>Jobs per prompt, with seeds seed, seed + 1, …</source>
        <translation>每个提示词的任务数，种子依次为 种子、种子 + 1、…</translation>
    </message>
    <message>
        <source>Seeds per prompt</source>
        <translation>每个提示词的种子数</translation>
    </message>
    <message>
        <source>One job per line</source>
        <translation>每行一个任务</translation>
    </message>
    <message>
        <source>Each non-empty line of the prompt becomes a job of its own.</source>
        <translation>提示词中每个非空行各成为一个任务。</translation>
    </message>
</context>
<context>
    <name>CheckedSpin</name>
    <message>
        <source>{name}: {typed} is outside {allowed}; it was set to {result}.</source>
        <translation>{name}：{typed} 超出范围 {allowed}，已设为 {result}。</translation>
    </message>
    <message>
        <source>{name}: “{typed}” is not a number ({allowed}); it stays {result}.</source>
        <translation>{name}：“{typed}”不是数字（{allowed}），保持为 {result}。</translation>
    </message>
</context>
<context>
    <name>ClipReopener</name>
    <message>
        <source>Model folder set to {folder}, where the clip&apos;s model was found.</source>
        <translation>模型文件夹已设为 {folder}，即找到该片段所用模型的位置。</translation>
    </message>
    <message>
        <source>Loaded the settings of {name} (seed locked: Generate makes the same clip).</source>
        <translation>已载入 {name} 的设置（种子已锁定：点击“生成”会得到同样的片段）。</translation>
    </message>
</context>
<context>
    <name>CloseWithJobsDialog</name>
    <message>
        <source>Close ContentV Studio</source>
        <translation>关闭 ContentV Studio</translation>
    </message>
    <message numerus="yes">
        <source>%n job(s) are running or waiting.</source>
        <translation>
            <numerusform>有 %n 个任务正在运行或等待。</numerusform>
        </translation>
    </message>
    <message>
        <source>Kept jobs wait in the queue, paused, the next time the app starts; a running job continues from its last snapshot, with the same seed.</source>
        <translation>保留的任务会在下次启动时在队列中等待（已暂停）；正在运行的任务将用相同的种子从最近的快照处继续。</translation>
    </message>
    <message>
        <source>Close and keep the jobs</source>
        <translation>关闭并保留任务</translation>
    </message>
    <message>
        <source>Cancel the jobs and close</source>
        <translation>取消任务并关闭</translation>
    </message>
    <message>
        <source>Don&apos;t close</source>
        <translation>不关闭</translation>
    </message>
</context>
<context>
    <name>CompareView</name>
    <message>
        <source>VAE slicing</source>
        <translation>VAE 切片</translation>
    </message>
    <message>
        <source>VAE tiling</source>
        <translation>VAE 分块</translation>
    </message>
    <message>
        <source>attention slicing</source>
        <translation>注意力切片</translation>
    </message>
    <message>
        <source>text encoders off the GPU</source>
        <translation>文本编码器移出 GPU</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Guidance</source>
        <translation>引导强度</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>帧数</translation>
    </message>
    <message>
        <source>Frame rate</source>
        <translation>帧率</translation>
    </message>
    <message>
        <source>Step cache</source>
        <translation>步骤缓存</translation>
    </message>
    <message>
        <source>Attention kernel</source>
        <translation>注意力内核</translation>
    </message>
    <message>
        <source>Guidance batching</source>
        <translation>引导批处理</translation>
    </message>
    <message>
        <source>Compiled</source>
        <translation>编译</translation>
    </message>
    <message>
        <source>Memory mode</source>
        <translation>内存模式</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>8-bit weights</source>
        <translation>8 位权重</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>Negative prompt</source>
        <translation>反向提示词</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>seed {seed}</source>
        <translation>种子 {seed}</translation>
    </message>
    <message>
        <source>Compare {count} clips</source>
        <translation>比较 {count} 段视频</translation>
    </message>
    <message>
        <source>Decoding the clips…</source>
        <translation>正在解码视频…</translation>
    </message>
    <message>
        <source>One frame back, every clip (← or ,)</source>
        <translation>所有视频后退一帧（← 或 ,）</translation>
    </message>
    <message>
        <source>Previous frame</source>
        <translation>上一帧</translation>
    </message>
    <message>
        <source>Play / pause every clip (Space)</source>
        <translation>播放 / 暂停所有视频（空格）</translation>
    </message>
    <message>
        <source>Play or pause</source>
        <translation>播放或暂停</translation>
    </message>
    <message>
        <source>One frame forward, every clip (→ or .)</source>
        <translation>所有视频前进一帧（→ 或 .）</translation>
    </message>
    <message>
        <source>Next frame</source>
        <translation>下一帧</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Flip A/B</source>
        <translation>A/B 切换</translation>
    </message>
    <message>
        <source>Show two clips in one large pane at the same frame: X flips between them, Esc goes back to side by side.</source>
        <translation>在一个大画面中显示两段视频的同一帧：按 X 在两者间切换，按 Esc 回到并排显示。</translation>
    </message>
    <message>
        <source>The two clips Flip shows in turn.</source>
        <translation>“A/B 切换”轮流显示的两段视频。</translation>
    </message>
    <message>
        <source>Space plays and pauses · ← → or , . step one frame · Home/End go to the start/end · X flips A/B in one pane · Esc back to side by side</source>
        <translation>空格播放和暂停 · ← → 或 , . 逐帧移动 · Home/End 跳到开头/结尾 · X 在一个画面中切换 A/B · Esc 回到并排显示</translation>
    </message>
    <message>
        <source>Everything else is the same.</source>
        <translation>其余参数都相同。</translation>
    </message>
    <message>
        <source>The clips were made with the same settings.</source>
        <translation>这些视频使用相同的设置生成。</translation>
    </message>
    <message>
        <source>Decoding clip {letter} of {count} ({frames} of {total} frames)…</source>
        <translation>正在解码第 {letter} 段视频，共 {count} 段（{frames}/{total} 帧）…</translation>
    </message>
    <message>
        <source>Clip {letter} could not be decoded: {reason}</source>
        <translation>视频 {letter} 无法解码：{reason}</translation>
    </message>
    <message>
        <source>{caption}   (X shows {other})</source>
        <translation>{caption}   （按 X 显示 {other}）</translation>
    </message>
    <message>
        <source>{position} / {duration} · frame {frame} of {count}</source>
        <translation>{position} / {duration} · 第 {frame} 帧，共 {count} 帧</translation>
    </message>
</context>
<context>
    <name>DownloadDialog</name>
    <message>
        <source>Get ContentV-8B</source>
        <translation>获取 ContentV-8B</translation>
    </message>
    <message>
        <source>Downloads ByteDance&apos;s ContentV-8B (about 27 GB) from the Hugging Face Hub. A paused or broken download resumes where it stopped when you start it again with the same folder.</source>
        <translation>从 Hugging Face Hub 下载字节跳动的 ContentV-8B（约 27 GB）。暂停或中断的下载，用同一文件夹再次开始时会从中断处继续。</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>Revision:</source>
        <translation>版本：</translation>
    </message>
    <message>
        <source>Into folder:</source>
        <translation>保存到文件夹：</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Asking the hub for the size of {0}…</source>
        <translation>正在向模型库查询 {0} 的大小…</translation>
    </message>
    <message>
        <source>The model&apos;s size could not be read: {0}</source>
        <translation>无法读取模型大小：{0}</translation>
    </message>
    <message>
        <source>{0} in {1} files</source>
        <translation>{0}，共 {1} 个文件</translation>
    </message>
    <message>
        <source> · {0} free on this disk</source>
        <translation> · 此磁盘可用 {0}</translation>
    </message>
    <message>
        <source> · an interrupted download is here and will be resumed ({0} still to fetch)</source>
        <translation> · 此处有中断的下载，将继续下载（还需获取 {0}）</translation>
    </message>
    <message>
        <source> — not enough space: {0} are needed.</source>
        <translation> — 空间不足：需要 {0}。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Folder for ContentV-8B</source>
        <translation>ContentV-8B 的文件夹</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>{0} of {1}</source>
        <translation>{0} / {1}</translation>
    </message>
    <message>
        <source>file {0} of {1}: {2}</source>
        <translation>第 {0} 个文件，共 {1} 个：{2}</translation>
    </message>
    <message>
        <source>{0}/s</source>
        <translation>{0}/秒</translation>
    </message>
    <message>
        <source>about {0} left</source>
        <translation>约剩 {0}</translation>
    </message>
    <message>
        <source>{0} h {1:02d} min</source>
        <translation>{0} 小时 {1:02d} 分</translation>
    </message>
    <message>
        <source>{0} min {1:02d} s</source>
        <translation>{0} 分 {1:02d} 秒</translation>
    </message>
    <message>
        <source>{0} s</source>
        <translation>{0} 秒</translation>
    </message>
    <message>
        <source>Downloaded and checked: {0}</source>
        <translation>已下载并校验：{0}</translation>
    </message>
    <message>
        <source>Paused. Press Resume to continue where it stopped.</source>
        <translation>已暂停。按“继续”从中断处接着下载。</translation>
    </message>
    <message>
        <source>The download stopped: {0}</source>
        <translation>下载已停止：{0}</translation>
    </message>
</context>
<context>
    <name>ErrorDialog</name>
    <message>
        <source>Out of memory</source>
        <translation>内存不足</translation>
    </message>
    <message>
        <source>The model folder cannot be used</source>
        <translation>无法使用该模型文件夹</translation>
    </message>
    <message>
        <source>This device is not available</source>
        <translation>该设备不可用</translation>
    </message>
    <message>
        <source>These settings cannot run</source>
        <translation>当前设置无法运行</translation>
    </message>
    <message>
        <source>The model produced no usable picture</source>
        <translation>模型没有生成可用的画面</translation>
    </message>
    <message>
        <source>The clip cannot be saved</source>
        <translation>无法保存视频</translation>
    </message>
    <message>
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
    <message>
        <source>The job cannot continue where it stopped</source>
        <translation>任务无法从中断处继续</translation>
    </message>
    <message>
        <source>A GPU of the split job stopped</source>
        <translation>拆分任务的一块 GPU 已停止</translation>
    </message>
    <message>
        <source>The job failed</source>
        <translation>任务失败</translation>
    </message>
    <message>
        <source>The job needed more memory than this computer has free.</source>
        <translation>任务所需的内存超出了这台电脑当前的可用内存。</translation>
    </message>
    <message>
        <source>The model could not be loaded from this folder.</source>
        <translation>无法从该文件夹加载模型。</translation>
    </message>
    <message>
        <source>The device or memory mode asked for does not exist on this computer.</source>
        <translation>这台电脑上没有所选的设备或内存模式。</translation>
    </message>
    <message>
        <source>Some settings are out of range.</source>
        <translation>部分设置超出了允许范围。</translation>
    </message>
    <message>
        <source>The numbers went out of range (NaN or infinity) while the clip was made.</source>
        <translation>生成视频时数值超出范围（NaN 或无穷大）。</translation>
    </message>
    <message>
        <source>The finished clip could not be written.</source>
        <translation>生成的视频无法写入。</translation>
    </message>
    <message>
        <source>ContentV Studio hit an unexpected problem.</source>
        <translation>ContentV Studio 遇到了意外问题。</translation>
    </message>
    <message>
        <source>What the interrupted job kept no longer fits it; it can run again from the beginning.</source>
        <translation>中断的任务所保存的内容已与它不再匹配；可以从头重新运行。</translation>
    </message>
    <message>
        <source>One of the processes running the job on several GPUs ended, so the others were stopped too.</source>
        <translation>在多块 GPU 上运行该任务的进程之一已退出，因此其他进程也已停止。</translation>
    </message>
    <message>
        <source>The job failed.</source>
        <translation>任务失败。</translation>
    </message>
</context>
<context>
    <name>ErrorPresenter</name>
    <message>
        <source>Every denoising step was done and is kept: only the decode runs again.</source>
        <translation>所有去噪步骤均已完成并保留：只需重新解码。</translation>
    </message>
    <message>
        <source>Decode again with lower memory settings</source>
        <translation>以更低内存设置重新解码</translation>
    </message>
    <message>
        <source>Start over</source>
        <translation>从头开始</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>Next settings to try: {changes}.</source>
        <translation>接下来可尝试的设置：{changes}。</translation>
    </message>
    <message>
        <source>Use lower-memory settings</source>
        <translation>使用更省内存的设置</translation>
    </message>
    <message>
        <source>Lower-memory settings applied: {changes}.</source>
        <translation>已应用更省内存的设置：{changes}。</translation>
    </message>
    <message>
        <source>These are already the lowest-memory settings: choose a smaller size or fewer frames.</source>
        <translation>这已经是最省内存的设置：请选择更小的尺寸或更少的帧数。</translation>
    </message>
    <message>
        <source>Choose another folder…</source>
        <translation>选择其他文件夹…</translation>
    </message>
    <message>
        <source>Choose automatically</source>
        <translation>自动选择</translation>
    </message>
    <message>
        <source>Run on one GPU</source>
        <translation>改用单块 GPU</translation>
    </message>
    <message>
        <source>The job could not be recorded in the history ({error}), so it was not started.</source>
        <translation>无法将任务记录到历史中（{error}），因此未开始。</translation>
    </message>
    <message>
        <source>Check that the data folder {folder} is writable and the disk has free space.</source>
        <translation>请检查数据文件夹 {folder} 是否可写，以及磁盘是否有剩余空间。</translation>
    </message>
    <message>
        <source>The next jobs run on one GPU.</source>
        <translation>之后的任务将在单块 GPU 上运行。</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Export the clip</source>
        <translation>导出视频</translation>
    </message>
    <message>
        <source>WebM video (VP9)</source>
        <translation>WebM 视频（VP9）</translation>
    </message>
    <message>
        <source>Animated GIF</source>
        <translation>GIF 动图</translation>
    </message>
    <message>
        <source>PNG frames (a folder)</source>
        <translation>PNG 帧序列（一个文件夹）</translation>
    </message>
    <message>
        <source>One palette for the clip (no flicker)</source>
        <translation>整段视频共用一个调色板（不闪烁）</translation>
    </message>
    <message>
        <source>A palette per frame (truer colours, larger)</source>
        <translation>每帧一个调色板（颜色更真实，文件更大）</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Clip:</source>
        <translation>视频：</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <source>GIF colours:</source>
        <translation>GIF 颜色：</translation>
    </message>
    <message>
        <source>Save as:</source>
        <translation>另存为：</translation>
    </message>
    <message>
        <source>Every frame is kept; the clip&apos;s parameters go with the export.</source>
        <translation>保留每一帧；视频的参数随导出文件一起保存。</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Folder for the frames</source>
        <translation>帧的文件夹</translation>
    </message>
    <message>
        <source>{0} files (*.{1})</source>
        <translation>{0} 文件 (*.{1})</translation>
    </message>
    <message>
        <source>Export as</source>
        <translation>导出为</translation>
    </message>
    <message>
        <source>Reading the clip…</source>
        <translation>正在读取视频…</translation>
    </message>
    <message>
        <source>Writing frame {0} of {1}…</source>
        <translation>正在写入第 {0} 帧，共 {1} 帧…</translation>
    </message>
    <message>
        <source>Exported {0} frames to {1}; the parameters are in {2}.</source>
        <translation>已将 {0} 帧导出到 {1}；参数保存在 {2}。</translation>
    </message>
    <message>
        <source>Export cancelled; nothing was written.</source>
        <translation>导出已取消；未写入任何内容。</translation>
    </message>
    <message>
        <source>The export failed: {0}</source>
        <translation>导出失败：{0}</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>FinishDialog</name>
    <message>
        <source>Upscale the clip</source>
        <translation>放大视频</translation>
    </message>
    <message>
        <source>Interpolate the clip</source>
        <translation>视频插帧</translation>
    </message>
    <message>
        <source>Clip:</source>
        <translation>视频：</translation>
    </message>
    <message>
        <source>a .pth or .safetensors file</source>
        <translation>.pth 或 .safetensors 文件</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>2× the frame rate</source>
        <translation>2 倍帧率</translation>
    </message>
    <message>
        <source>4× the frame rate</source>
        <translation>4 倍帧率</translation>
    </message>
    <message>
        <source>A frame rate of…</source>
        <translation>指定帧率…</translation>
    </message>
    <message>
        <source> fps</source>
        <translation> fps</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>RIFE (downloads its weights on first use)</source>
        <translation>RIFE（首次使用时下载权重）</translation>
    </message>
    <message>
        <source>ffmpeg minterpolate (no model, softer)</source>
        <translation>ffmpeg minterpolate（无需模型，画面较柔）</translation>
    </message>
    <message>
        <source>Default: {name}</source>
        <translation>默认：{name}</translation>
    </message>
    <message>
        <source>A model file…</source>
        <translation>模型文件…</translation>
    </message>
    <message>
        <source>{name} is downloaded ({size} MB).</source>
        <translation>{name} 已下载（{size} MB）。</translation>
    </message>
    <message>
        <source>{name} is not downloaded yet: it downloads on first use (hash-checked).</source>
        <translation>{name} 尚未下载：首次使用时自动下载（校验哈希）。</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>Scale:</source>
        <translation>放大倍数：</translation>
    </message>
    <message>
        <source>Interpolate to:</source>
        <translation>插帧至：</translation>
    </message>
    <message>
        <source>Method:</source>
        <translation>方法：</translation>
    </message>
    <message>
        <source>Add to queue</source>
        <translation>加入队列</translation>
    </message>
    <message>
        <source>Choose an upscaling model</source>
        <translation>选择放大模型</translation>
    </message>
    <message>
        <source>Model weights (*.pth *.safetensors)</source>
        <translation>模型权重 (*.pth *.safetensors)</translation>
    </message>
    <message>
        <source>Your file runs as it is.</source>
        <translation>将直接使用您的文件。</translation>
    </message>
    <message>
        <source>ffmpeg&apos;s minterpolate runs: no model needed, softer in-between frames.</source>
        <translation>将使用 ffmpeg 的 minterpolate：无需模型，中间帧较柔和。</translation>
    </message>
    <message>
        <source>RIFE runs ({name}, downloaded).</source>
        <translation>将使用 RIFE（{name}，已下载）。</translation>
    </message>
    <message>
        <source>RIFE runs: {name} downloads first (hash-checked), then interpolates.</source>
        <translation>将使用 RIFE：先下载 {name}（校验哈希），再插帧。</translation>
    </message>
    <message>
        <source>RIFE runs: its weights ({name}) are here.</source>
        <translation>将使用 RIFE：其权重（{name}）已在本机。</translation>
    </message>
    <message>
        <source>ffmpeg&apos;s minterpolate runs, because RIFE&apos;s weights ({name}) are not downloaded; choose RIFE to get them.</source>
        <translation>将使用 ffmpeg 的 minterpolate，因为 RIFE 的权重（{name}）尚未下载；选择 RIFE 即可下载。</translation>
    </message>
</context>
<context>
    <name>FinishNotices</name>
    <message>
        <source>&amp;Notify when a job ends</source>
        <translation>任务结束时通知(&amp;N)</translation>
    </message>
    <message>
        <source>A desktop notification when a job or the queue ends while the window is not in front.</source>
        <translation>窗口不在前台时，任务或队列结束后发出桌面通知。</translation>
    </message>
    <message>
        <source>Play a &amp;sound when a job ends</source>
        <translation>任务结束时播放提示音(&amp;S)</translation>
    </message>
    <message>
        <source>Job failed: {message}</source>
        <translation>任务失败：{message}</translation>
    </message>
    <message>
        <source>{time} of work</source>
        <translation>共用时 {time}</translation>
    </message>
    <message numerus="yes">
        <source>%n failed</source>
        <translation>
            <numerusform>%n 个失败</numerusform>
        </translation>
    </message>
    <message>
        <source>Queue finished: 1 clip</source>
        <translation>队列已完成：1 个视频</translation>
    </message>
    <message>
        <source>Queue finished: {count} clips</source>
        <translation>队列已完成：{count} 个视频</translation>
    </message>
    <message>
        <source>Clip ready: {prompt}</source>
        <translation>视频已完成：{prompt}</translation>
    </message>
    <message>
        <source>Made in {time}</source>
        <translation>用时 {time}</translation>
    </message>
</context>
<context>
    <name>FinishPanel</name>
    <message>
        <source>Upscale</source>
        <translation>放大</translation>
    </message>
    <message>
        <source>Upscale the generated clip (Real-ESRGAN; the default model downloads on first use).</source>
        <translation>放大生成的视频（默认放大模型在首次使用时下载）。</translation>
    </message>
    <message>
        <source>default model, or a .pth/.safetensors file</source>
        <translation>默认模型，或 .pth/.safetensors 文件</translation>
    </message>
    <message>
        <source>Interpolate</source>
        <translation>插帧</translation>
    </message>
    <message>
        <source>Raise the frame rate (RIFE when its weights are downloaded, else ffmpeg&apos;s minterpolate).</source>
        <translation>提高帧率（已下载插帧模型权重时用它插帧，否则用内置的运动补偿插帧）。</translation>
    </message>
    <message>
        <source>{factor}× the rate</source>
        <translation>{factor} 倍帧率</translation>
    </message>
    <message>
        <source>to {fps} fps</source>
        <translation>至 {fps} fps</translation>
    </message>
</context>
<context>
    <name>FormColumn</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>&amp;Prompt</source>
        <translation>提示词(&amp;P)</translation>
    </message>
    <message>
        <source>Video</source>
        <translation>视频</translation>
    </message>
    <message>
        <source>Memory and device</source>
        <translation>内存与设备</translation>
    </message>
    <message>
        <source>GPUs</source>
        <translation>GPU</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>后期处理</translation>
    </message>
    <message>
        <source>Write a prompt first.</source>
        <translation>请先写提示词。</translation>
    </message>
    <message>
        <source>Fix the settings listed above first.</source>
        <translation>请先修正上面列出的设置。</translation>
    </message>
    <message>
        <source>Add this job to the queue (Ctrl+Enter).</source>
        <translation>将此任务加入队列（Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Generate the clip (Ctrl+Enter).</source>
        <translation>生成视频（Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>Draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>A quick look first: the same seed at fewer steps with the fastest step cache (Ctrl+Shift+Enter). Final on the draft in the history then makes it at full quality.</source>
        <translation>先快速预览：相同种子，更少步数，最快的步骤缓存（Ctrl+Shift+Enter）。之后在历史记录中对草稿点“定稿”，即以完整质量生成。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop the running job after the current step; nothing is written (Esc).</source>
        <translation>在当前步骤结束后停止正在运行的任务；不写入任何内容（Esc）。</translation>
    </message>
    <message>
        <source>Job progress</source>
        <translation>任务进度</translation>
    </message>
</context>
<context>
    <name>FrameRateCombo</name>
    <message>
        <source>{low}–{high} fps, up to three decimals or a fraction such as 24000/1001</source>
        <translation>{low}–{high} fps，最多三位小数，或 24000/1001 这样的分数</translation>
    </message>
</context>
<context>
    <name>GenerationWorker</name>
    <message>
        <source>The generation engine could not start.</source>
        <translation>生成引擎无法启动。</translation>
    </message>
    <message>
        <source>The generation engine is not available (see the earlier error).</source>
        <translation>生成引擎不可用（见之前的错误）。</translation>
    </message>
</context>
<context>
    <name>GpusPanel</name>
    <message>
        <source>GPUs</source>
        <translation>GPU 数量</translation>
    </message>
    <message>
        <source>Run one clip on several GPUs at once. Each GPU holds a whole copy of the model, so each needs the memory of a one-GPU job (less for the activations); the clip is the same.</source>
        <translation>用多块 GPU 同时生成一个视频。每块 GPU 都载入一份完整的模型，因此每块所需显存与单 GPU 任务相当（激活值略少）；生成的视频相同。</translation>
    </message>
    <message>
        <source>Split</source>
        <translation>拆分方式</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Guidance branches (one per GPU)</source>
        <translation>引导分支（每块 GPU 一支）</translation>
    </message>
    <message>
        <source>Tokens, Ulysses (all-to-all)</source>
        <translation>按 token 拆分，Ulysses（all-to-all）</translation>
    </message>
    <message>
        <source>Tokens, ring</source>
        <translation>按 token 拆分，环形</translation>
    </message>
    <message>
        <source>Guidance runs the prompt&apos;s and the negative prompt&apos;s branch on different GPUs and exchanges little; the token splits divide the video itself and exchange more, which suits GPUs joined by NVLink. Automatic picks from the GPUs, the job and their link.</source>
        <translation>引导拆分把提示词分支和反向提示词分支放在不同的 GPU 上运行，交换的数据很少；按 token 拆分则切分视频本身，交换的数据更多，适合以 NVLink 相连的 GPU。“自动”会根据 GPU、任务及其互联方式来选择。</translation>
    </message>
    <message>
        <source>1 (one GPU)</source>
        <translation>1（单块 GPU）</translation>
    </message>
    <message>
        <source>All {count}</source>
        <translation>全部 {count} 块</translation>
    </message>
    <message>
        <source>Each job runs on one GPU.</source>
        <translation>每个任务在一块 GPU 上运行。</translation>
    </message>
    <message>
        <source>Expected about {speedup}× as fast as one GPU ({seconds} s per step), {memory} GB per GPU.</source>
        <translation>预计约为单块 GPU 的 {speedup} 倍速度（每步 {seconds} 秒），每块 GPU 约 {memory} GB。</translation>
    </message>
    <message>
        <source>Automatic: {reason}</source>
        <translation>自动：{reason}</translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>{frames} f</source>
        <translation>{frames} 帧</translation>
    </message>
    <message>
        <source>{steps} steps</source>
        <translation>{steps} 步</translation>
    </message>
    <message>
        <source>seed {seed}</source>
        <translation>种子 {seed}</translation>
    </message>
    <message>
        <source>Status: {status}</source>
        <translation>状态：{status}</translation>
    </message>
    <message>
        <source>{width} × {height}, {frames} frames at {fps} fps</source>
        <translation>{width} × {height}，{frames} 帧，{fps} fps</translation>
    </message>
    <message>
        <source>{steps} steps, guidance {guidance}, seed {seed}</source>
        <translation>{steps} 步，引导强度 {guidance}，种子 {seed}</translation>
    </message>
    <message>
        <source>Model: {folder}</source>
        <translation>模型：{folder}</translation>
    </message>
    <message>
        <source>Device {device}, {dtype}; placement {placement}; 8-bit {quantization}</source>
        <translation>设备 {device}，{dtype}；放置方式 {placement}；8 位量化 {quantization}</translation>
    </message>
    <message>
        <source>Took {seconds} s</source>
        <translation>用时 {seconds} 秒</translation>
    </message>
    <message>
        <source>Peak VRAM {size} GB</source>
        <translation>显存峰值 {size} GB</translation>
    </message>
    <message>
        <source>Speed: step cache {cache}, attention {attention}, guidance {guidance}, compile {compile}</source>
        <translation>速度：步骤缓存 {cache}，注意力 {attention}，引导 {guidance}，编译 {compile}</translation>
    </message>
    <message>
        <source>on</source>
        <translation>开</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>all on GPU</source>
        <translation>全部放在 GPU 上</translation>
    </message>
    <message>
        <source>model CPU offload</source>
        <translation>模型 CPU 卸载</translation>
    </message>
    <message>
        <source>sequential CPU offload</source>
        <translation>顺序 CPU 卸载</translation>
    </message>
    <message>
        <source>streamed offload</source>
        <translation>流式卸载</translation>
    </message>
    <message>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>fast</source>
        <translation>快</translation>
    </message>
    <message>
        <source>faster</source>
        <translation>更快</translation>
    </message>
    <message>
        <source>sequential</source>
        <translation>依次运行</translation>
    </message>
    <message>
        <source>batched</source>
        <translation>批处理</translation>
    </message>
    <message>
        <source>d MMM HH:mm</source>
        <translation>M月d日 HH:mm</translation>
    </message>
    <message>
        <source>d MMM yyyy</source>
        <translation>yyyy年M月d日</translation>
    </message>
    <message>
        <source>#{job} → {what}</source>
        <translation>#{job} → {what}</translation>
    </message>
    <message>
        <source>Draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>Final of #{job}</source>
        <translation>#{job} 的定稿</translation>
    </message>
    <message>
        <source>denoised, not decoded</source>
        <translation>已去噪，未解码</translation>
    </message>
    <message>
        <source>at step {step} of {steps}</source>
        <translation>于第 {step}/{steps} 步</translation>
    </message>
    <message>
        <source>Stopped {where}: Continue goes on from there, Start over runs it again from step 0.</source>
        <translation>停止于{where}：“继续”从该处接着运行，“从头开始”从第 0 步重新运行。</translation>
    </message>
    <message>
        <source>Finished ({what}) from #{job}: {clip}</source>
        <translation>由 #{job} 后期处理（{what}）：{clip}</translation>
    </message>
    <message>
        <source>Generated, then finished: {what}</source>
        <translation>生成后再处理：{what}</translation>
    </message>
    <message>
        <source>Draft: a quick look at fewer steps; Final makes it at full quality with the same seed.</source>
        <translation>草稿：以更少步数快速预览；“定稿”用相同种子以完整质量生成。</translation>
    </message>
    <message>
        <source>Final of draft #{job}</source>
        <translation>草稿 #{job} 的定稿</translation>
    </message>
    <message>
        <source>kernel {name}</source>
        <translation>内核 {name}</translation>
    </message>
    <message>
        <source>cache {method}</source>
        <translation>缓存 {method}</translation>
    </message>
    <message>
        <source>compiled in {seconds} s</source>
        <translation>编译用时 {seconds} 秒</translation>
    </message>
    <message>
        <source>{speed} (ran: {what})</source>
        <translation>{speed}（实际运行：{what}）</translation>
    </message>
    <message>
        <source>Select 2 to 4 finished clips to compare (Ctrl+click or Shift+click in the history).</source>
        <translation>请选择 2 到 4 段已完成的视频进行比较（在历史记录中按住 Ctrl 或 Shift 点击）。</translation>
    </message>
    <message>
        <source>At most 4 clips can be compared at once; {count} are selected.</source>
        <translation>一次最多比较 4 段视频；当前选中了 {count} 段。</translation>
    </message>
    <message>
        <source>“{prompt}” has no clip to compare ({status}).</source>
        <translation>“{prompt}”没有可比较的视频（{status}）。</translation>
    </message>
    <message>
        <source>The clip of “{prompt}” is missing: {path}</source>
        <translation>“{prompt}”的视频文件不见了：{path}</translation>
    </message>
    <message>
        <source>running {percent}%</source>
        <translation>运行中 {percent}%</translation>
    </message>
    <message>
        <source>interrupted at step {step} of {steps}</source>
        <translation>中断于第 {step}/{steps} 步</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <source>Search prompts…</source>
        <translation>搜索提示词…</translation>
    </message>
    <message>
        <source>Search the history</source>
        <translation>搜索历史记录</translation>
    </message>
    <message>
        <source>Job history</source>
        <translation>任务历史</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Continue where it stopped</source>
        <translation>从中断处继续</translation>
    </message>
    <message>
        <source>Decode again with lower memory settings</source>
        <translation>以更低内存设置重新解码</translation>
    </message>
    <message>
        <source>Start over</source>
        <translation>从头开始</translation>
    </message>
    <message>
        <source>Upscale…</source>
        <translation>放大…</translation>
    </message>
    <message>
        <source>Interpolate…</source>
        <translation>插帧…</translation>
    </message>
    <message>
        <source>Load</source>
        <translation>载入</translation>
    </message>
    <message>
        <source>Put this job&apos;s prompt and settings into the form.</source>
        <translation>把此任务的提示词和设置填入表单。</translation>
    </message>
    <message>
        <source>Re-run</source>
        <translation>重新运行</translation>
    </message>
    <message>
        <source>Run this job again with the same seed and settings: the same clip.</source>
        <translation>用相同的种子和设置再次运行此任务：得到相同的视频。</translation>
    </message>
    <message>
        <source>New seed</source>
        <translation>新种子</translation>
    </message>
    <message>
        <source>Run this job again with a new random seed.</source>
        <translation>用新的随机种子再次运行此任务。</translation>
    </message>
    <message>
        <source>Final</source>
        <translation>定稿</translation>
    </message>
    <message>
        <source>Make this draft at full quality: the same seed and settings with the form&apos;s steps and step cache, so it looks like the draft.</source>
        <translation>以完整质量生成此草稿：相同的种子和设置，使用表单中的步数和步骤缓存，因此结果与草稿相似。</translation>
    </message>
    <message>
        <source>Play this clip in the player.</source>
        <translation>在播放器中播放此视频。</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>Show the clip in its folder.</source>
        <translation>在文件夹中显示此视频。</translation>
    </message>
    <message>
        <source>Export this clip as WebM, an animated GIF or PNG frames.</source>
        <translation>将此视频导出为 WebM、GIF 动图或 PNG 帧。</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Delete this entry and its video file.</source>
        <translation>删除此条目及其视频文件。</translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <source>{shown} of {total}</source>
        <translation>{shown} / {total}</translation>
    </message>
    <message>
        <source>1 job</source>
        <translation>1 个任务</translation>
    </message>
    <message>
        <source>{count} jobs</source>
        <translation>{count} 个任务</translation>
    </message>
    <message>
        <source>No job&apos;s prompt has the words “{query}”.
Clear the search to see all {total}.</source>
        <translation>没有任务的提示词包含“{query}”。
清除搜索可查看全部 {total} 个。</translation>
    </message>
    <message>
        <source>No jobs yet.
Every clip you make is listed here.</source>
        <translation>还没有任务。
你生成的每段视频都会列在这里。</translation>
    </message>
    <message>
        <source>Play the {count} selected clips side by side, in step to the frame (Ctrl+K).</source>
        <translation>并排播放选中的 {count} 段视频，逐帧同步（Ctrl+K）。</translation>
    </message>
    <message>
        <source>Compare the selected clips</source>
        <translation>比较选中的视频</translation>
    </message>
    <message>
        <source>Copy prompt</source>
        <translation>复制提示词</translation>
    </message>
</context>
<context>
    <name>JobController</name>
    <message>
        <source>No model folder is chosen.</source>
        <translation>尚未选择模型文件夹。</translation>
    </message>
    <message>
        <source>Choose your ContentV-8B folder, or make a demo model to check the install.</source>
        <translation>请选择 ContentV-8B 模型文件夹，或生成一个演示模型来检查安装。</translation>
    </message>
    <message>
        <source>This history entry has no prompt to run again.</source>
        <translation>该历史记录没有可重新运行的提示词。</translation>
    </message>
</context>
<context>
    <name>JobProgressView</name>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Encoding the prompt…</source>
        <translation>正在编码提示词…</translation>
    </message>
    <message>
        <source>Denoising…</source>
        <translation>正在去噪…</translation>
    </message>
    <message>
        <source>Decoding the video…</source>
        <translation>正在解码视频…</translation>
    </message>
    <message>
        <source>Saving the clip…</source>
        <translation>正在保存视频…</translation>
    </message>
    <message>
        <source>Ready.</source>
        <translation>就绪。</translation>
    </message>
    <message numerus="yes">
        <source>%n waiting (paused)</source>
        <translation>
            <numerusform>%n 个等待中（已暂停）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n more queued</source>
        <translation>
            <numerusform>还有 %n 个排队</numerusform>
        </translation>
    </message>
    <message>
        <source>queue about {time} left</source>
        <translation>队列约剩 {time}</translation>
    </message>
    <message>
        <source>Waiting for the engine…</source>
        <translation>正在等待引擎…</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>%v / %m steps</source>
        <translation>%v / %m 步</translation>
    </message>
    <message>
        <source>about {time} left</source>
        <translation>约剩 {time}</translation>
    </message>
    <message>
        <source>Reading the clip…</source>
        <translation>正在读取视频…</translation>
    </message>
    <message>
        <source>Downloading the model (first use)…</source>
        <translation>正在下载模型（首次使用）…</translation>
    </message>
    <message>
        <source>Loading the network…</source>
        <translation>正在加载网络…</translation>
    </message>
    <message>
        <source>Upscaling</source>
        <translation>正在放大</translation>
    </message>
    <message>
        <source>Interpolating</source>
        <translation>正在插帧</translation>
    </message>
    <message>
        <source>Decoding {percent}%</source>
        <translation>解码 {percent}%</translation>
    </message>
    <message>
        <source>Denoising  ·  step {step} of {total}  ·  {elapsed}</source>
        <translation>正在去噪  ·  第 {step} 步，共 {total} 步  ·  {elapsed}</translation>
    </message>
    <message>
        <source>decoding %v / %m</source>
        <translation>解码 %v / %m</translation>
    </message>
    <message>
        <source>Decoding the video  ·  {done} of {total}</source>
        <translation>正在解码视频  ·  {done} / {total}</translation>
    </message>
    <message>
        <source>%v / %m frames</source>
        <translation>%v / %m 帧</translation>
    </message>
    <message>
        <source>frame {done} of {total}</source>
        <translation>第 {done} / {total} 帧</translation>
    </message>
    <message>
        <source>{size} MiB</source>
        <translation>{size} MiB</translation>
    </message>
    <message numerus="yes">
        <source>estimate from %n past finish job(s)</source>
        <translation>
            <numerusform>根据 %n 个以往处理任务估算</numerusform>
        </translation>
    </message>
    <message>
        <source>a rough default estimate: no finish job has run here yet</source>
        <translation>粗略的默认估算：本机尚未运行过后期处理任务</translation>
    </message>
    <message>
        <source>about {time} left ({source})</source>
        <translation>约剩 {time}（{source}）</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Done in {seconds} s  ·  seed {seed}</source>
        <translation>用时 {seconds} 秒完成  ·  种子 {seed}</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Failed: {message}</source>
        <translation>失败：{message}</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Cancelled at step {step} of {steps}; nothing was written. Continue it from the history.</source>
        <translation>已在第 {step}/{steps} 步取消；未写入任何文件。可在历史记录中继续该任务。</translation>
    </message>
    <message>
        <source>Cancelled — nothing was written.</source>
        <translation>已取消 — 未写入任何内容。</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Stopped; the job waits in the queue and continues from step {step} of {steps}.</source>
        <translation>已停止；任务在队列中等待，并将从第 {step}/{steps} 步继续。</translation>
    </message>
    <message>
        <source>Stopped; the job waits in the queue and restarts from the beginning.</source>
        <translation>已停止；任务在队列中等待，将从头重新开始。</translation>
    </message>
</context>
<context>
    <name>LanguageMenu</name>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>The new language is used the next time ContentV Studio starts.</source>
        <translation>新语言将在下次启动 ContentV Studio 时生效。</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Another ContentV Studio window is using this data folder; both write to the same history.</source>
        <translation>另一个 ContentV Studio 窗口正在使用此数据文件夹；两者写入同一份历史记录。</translation>
    </message>
    <message numerus="yes">
        <source>%n job(s) from the last session are waiting in the queue, paused: Resume runs them.</source>
        <translation>
            <numerusform>上次会话的 %n 个任务在队列中等待（已暂停）：按“继续”运行它们。</numerusform>
        </translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Live preview</source>
        <translation>实时预览</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Choose &amp;model folder…</source>
        <translation>选择模型文件夹(&amp;M)…</translation>
    </message>
    <message>
        <source>Make a &amp;demo model…</source>
        <translation>制作演示模型(&amp;D)…</translation>
    </message>
    <message>
        <source>&amp;Get ContentV-8B…</source>
        <translation>获取 ContentV-8B(&amp;G)…</translation>
    </message>
    <message>
        <source>Open clip&apos;s &amp;settings…</source>
        <translation>打开片段的设置(&amp;S)…</translation>
    </message>
    <message>
        <source>Fill the form with the parameters a clip was made with (or drop the clip here).</source>
        <translation>用片段生成时的参数填写表单（也可以把片段拖到这里）。</translation>
    </message>
    <message>
        <source>&amp;Export the clip…</source>
        <translation>导出视频(&amp;E)…</translation>
    </message>
    <message>
        <source>Open the &amp;outputs folder</source>
        <translation>打开输出文件夹(&amp;O)</translation>
    </message>
    <message>
        <source>Open the data &amp;folder</source>
        <translation>打开数据文件夹(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Job</source>
        <translation>任务(&amp;J)</translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation>生成(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Draft (fewer steps, same seed)</source>
        <translation>草稿（更少步数，相同种子）(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Cancel the running job</source>
        <translation>取消正在运行的任务(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Re-run the selected job</source>
        <translation>重新运行所选任务(&amp;R)</translation>
    </message>
    <message>
        <source>Re-run with a &amp;new seed</source>
        <translation>用新种子重新运行(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Load the selected job into the form</source>
        <translation>将所选任务载入表单(&amp;L)</translation>
    </message>
    <message>
        <source>Make the selected draft &amp;final</source>
        <translation>将所选草稿定稿(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Compare the selected clips</source>
        <translation>比较选中的视频(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Reset the layout</source>
        <translation>重置布局(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Search the history</source>
        <translation>搜索历史记录(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Keep the model folder&apos;s path in clips</source>
        <translation>在片段中保留模型文件夹路径(&amp;K)</translation>
    </message>
    <message>
        <source>Off: clips and exports name the model, not where it is on this computer. On: for an archive.</source>
        <translation>关闭：片段和导出文件只写明模型是什么，不写它在这台电脑上的位置。开启：适合自己存档。</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Open the &amp;log file</source>
        <translation>打开日志文件(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;About {app}</source>
        <translation>关于 {app}(&amp;A)</translation>
    </message>
    <message>
        <source>Starting the engine…</source>
        <translation>正在启动引擎…</translation>
    </message>
    <message>
        <source>Every line of the prompt is empty.</source>
        <translation>提示词的每一行都是空的。</translation>
    </message>
    <message numerus="yes">
        <source>%n job(s) added to the queue.</source>
        <translation>
            <numerusform>已将 %n 个任务加入队列。</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelling after the current step…</source>
        <translation>将在当前步骤结束后取消…</translation>
    </message>
    <message>
        <source>Queued: {prompt}</source>
        <translation>已加入队列：{prompt}</translation>
    </message>
    <message>
        <source>Added to the paused queue: Resume runs it.</source>
        <translation>已加入暂停的队列：按“继续”运行。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>Add to queue</source>
        <translation>加入队列</translation>
    </message>
    <message>
        <source>Engine ready · {device}</source>
        <translation>引擎就绪 · {device}</translation>
    </message>
    <message>
        <source>The engine could not start.</source>
        <translation>引擎无法启动。</translation>
    </message>
    <message>
        <source>Open a clip&apos;s settings</source>
        <translation>打开片段的设置</translation>
    </message>
    <message>
        <source>Clips and their settings ({patterns})</source>
        <translation>片段及其设置（{patterns}）</translation>
    </message>
    <message>
        <source>Choose another folder for the demo model.</source>
        <translation>请为演示模型选择其他文件夹。</translation>
    </message>
    <message>
        <source>Demo model ready: {path}</source>
        <translation>演示模型已就绪：{path}</translation>
    </message>
    <message>
        <source>Exported to {0}</source>
        <translation>已导出到 {0}</translation>
    </message>
    <message>
        <source>Play a finished clip first, then export it.</source>
        <translation>请先播放一段已完成的视频，再导出它。</translation>
    </message>
    <message>
        <source>Could not open the folder of {path}.</source>
        <translation>无法打开 {path} 所在的文件夹。</translation>
    </message>
    <message>
        <source>About {app}</source>
        <translation>关于 {app}</translation>
    </message>
    <message>
        <source>&lt;p&gt;Text to video with ByteDance&apos;s ContentV-8B on your own GPU.&lt;/p&gt;</source>
        <translation>&lt;p&gt;在你自己的 GPU 上用字节跳动的 ContentV-8B 从文字生成视频。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;Data folder: &lt;code&gt;{folder}&lt;/code&gt;&lt;/p&gt;</source>
        <translation>&lt;p&gt;数据文件夹：&lt;code&gt;{folder}&lt;/code&gt;&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Stopping the job before closing…</source>
        <translation>正在停止任务，然后关闭…</translation>
    </message>
    <message>
        <source>Keeping the jobs and closing…</source>
        <translation>正在保留任务并关闭…</translation>
    </message>
</context>
<context>
    <name>MemoryPanel</name>
    <message>
        <source>All on GPU</source>
        <translation>全部放在 GPU 上</translation>
    </message>
    <message>
        <source>Every component stays on the GPU. Fastest, and needs the most VRAM: about 30 GB for ContentV-8B in bf16 (transformer ~16 GB, T5-XXL ~9.5 GB, CLIPs and VAE ~1.5 GB) plus activations.</source>
        <translation>所有组件都常驻 GPU。速度最快，但显存需求最高：ContentV-8B 在 bf16 下约需 30 GB（Transformer 约 16 GB，T5-XXL 约 9.5 GB，CLIP 和 VAE 约 1.5 GB），另加激活值。</translation>
    </message>
    <message>
        <source>Model CPU offload</source>
        <translation>模型 CPU 卸载</translation>
    </message>
    <message>
        <source>Whole components take turns on the GPU; the others wait in system RAM. Peak VRAM is about the transformer (~16 GB in bf16, ~8 GB with 8-bit weights) plus activations. Costs a few seconds per job to move components; 24 GB cards.</source>
        <translation>各组件轮流使用 GPU，其余组件在系统内存中等待。显存峰值约为 Transformer 的大小（bf16 约 16 GB，8 位权重约 8 GB）加上激活值。每个任务要多花几秒钟搬移组件；适合 24 GB 显卡。</translation>
    </message>
    <message>
        <source>Sequential CPU offload</source>
        <translation>顺序 CPU 卸载</translation>
    </message>
    <message>
        <source>Every layer is copied to the GPU just before it runs. Lowest VRAM (a few GB), but much slower: all weights cross PCIe again at every step. A last resort for 8 GB cards.</source>
        <translation>每一层在运行前才复制到 GPU。显存占用最低（几 GB），但速度慢得多：每一步所有权重都要重新经过 PCIe 传输。是 8 GB 显卡的最后选择。</translation>
    </message>
    <message>
        <source>Streamed offload</source>
        <translation>流式卸载</translation>
    </message>
    <message>
        <source>Transformer and T5 blocks stream from pinned system RAM on a side CUDA stream, the next block copying while the current one computes. Near the lowest VRAM (about two blocks of weights) and far faster than sequential offload; needs system RAM for all the weights. 8–16 GB cards.</source>
        <translation>Transformer 和 T5 的模块从锁页系统内存经独立的 CUDA 流传入，当前模块计算时同时拷贝下一个模块。显存占用接近最低（约两个模块的权重），且比顺序卸载快得多；系统内存需要能容纳全部权重。适合 8–16 GB 显卡。</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>NVIDIA GPU (CUDA)</source>
        <translation>NVIDIA GPU（CUDA）</translation>
    </message>
    <message>
        <source>Apple GPU (MPS)</source>
        <translation>Apple GPU（MPS）</translation>
    </message>
    <message>
        <source>CPU (slow)</source>
        <translation>CPU（较慢）</translation>
    </message>
    <message>
        <source>float32 (CPU; 2× memory)</source>
        <translation>float32（CPU；内存占用翻倍）</translation>
    </message>
    <message>
        <source>None (full precision)</source>
        <translation>无（全精度）</translation>
    </message>
    <message>
        <source>int8 weights</source>
        <translation>int8 权重</translation>
    </message>
    <message>
        <source>fp8 weights</source>
        <translation>fp8 权重</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Automatic picks the NVIDIA GPU, then an Apple GPU, then the CPU.</source>
        <translation>“自动”会依次选择 NVIDIA GPU、Apple GPU、CPU。</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>Compute precision. Automatic: bfloat16 on GPUs that support it (RTX 30xx and newer), float16 on older ones, float32 on the CPU. The VAE always runs in float32.</source>
        <translation>计算精度。“自动”：支持 bfloat16 的 GPU（RTX 30 系列及更新型号）使用 bfloat16，较旧的 GPU 使用 float16，CPU 使用 float32。VAE 始终以 float32 运行。</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Store the transformer&apos;s and T5&apos;s weights in 8 bits, one scale per output channel. Halves their VRAM (transformer ~16 → ~8 GB, T5 ~9.5 → ~4.8 GB) for a small loss of detail; each layer is widened back just before it runs, so steps are a little slower. fp8 keeps more range than int8. Changing it reloads the model.</source>
        <translation>以 8 位存储 Transformer 和 T5 的权重，每个输出通道一个缩放系数。显存占用减半（Transformer 约 16 → 8 GB，T5 约 9.5 → 4.8 GB），细节略有损失；每层在运行前才恢复为高精度，因此每一步会稍慢。fp8 的数值范围比 int8 更大。更改此项会重新加载模型。</translation>
    </message>
    <message>
        <source>8-bit weights</source>
        <translation>8 位权重</translation>
    </message>
    <message>
        <source>Where the weights live</source>
        <translation>权重存放位置</translation>
    </message>
    <message>
        <source>Savers</source>
        <translation>节省显存</translation>
    </message>
    <message>
        <source>VAE slicing</source>
        <translation>VAE 切片</translation>
    </message>
    <message>
        <source>Decode the video one sample at a time. Saves a little memory while decoding; costs almost nothing.</source>
        <translation>逐个样本解码视频。解码时略微节省内存，几乎没有额外开销。</translation>
    </message>
    <message>
        <source>VAE tiling</source>
        <translation>VAE 分块</translation>
    </message>
    <message>
        <source>Decode the video in overlapping spatial tiles. Saves several GB at the end of a job (768 × 432 × 125 frames needs ~10 GB untiled); a little slower, and faint seams are possible.</source>
        <translation>将视频分成相互重叠的空间图块来解码。可在任务末尾节省数 GB 显存（768 × 432 × 125 帧不分块时约需 10 GB）；稍慢，且可能出现轻微接缝。</translation>
    </message>
    <message>
        <source>Attention slicing</source>
        <translation>注意力切片</translation>
    </message>
    <message>
        <source>Compute attention a slice of queries at a time: the same result with a smaller attention buffer. Helps where no fused attention kernel runs (older GPUs, float32); slower.</source>
        <translation>每次只计算一部分查询的注意力：结果相同，但注意力缓冲区更小。适用于无法使用融合注意力内核的情况（较旧的 GPU、float32）；速度较慢。</translation>
    </message>
    <message>
        <source>Text encoders off GPU after encoding</source>
        <translation>编码后将文本编码器移出 GPU</translation>
    </message>
    <message>
        <source>Move CLIP and T5 to system RAM once the prompt is encoded: frees about 11 GB for the transformer. A new prompt moves them back first (a few seconds). Only with &apos;All on GPU&apos;; the offload modes manage the text encoders themselves.</source>
        <translation>提示词编码完成后，将 CLIP 和 T5 移到系统内存，为 Transformer 腾出约 11 GB 显存。换用新提示词时会先将它们移回（需几秒钟）。仅适用于“全部放在 GPU 上”；各卸载模式会自行管理文本编码器。</translation>
    </message>
    <message>
        <source>Checking this machine…</source>
        <translation>正在检测本机…</translation>
    </message>
    <message>
        <source>Recommend</source>
        <translation>推荐</translation>
    </message>
    <message>
        <source>Choose the fastest memory settings predicted to fit in the GPU memory that is free now.</source>
        <translation>选择预计能放入当前空闲显存的最快内存设置。</translation>
    </message>
    <message>
        <source>Unavailable here: {reason}</source>
        <translation>本机不可用：{reason}</translation>
    </message>
    <message>
        <source>No CUDA GPU is visible to PyTorch on this machine.</source>
        <translation>PyTorch 在本机上找不到 CUDA GPU。</translation>
    </message>
    <message>
        <source>This machine has no Apple GPU.</source>
        <translation>本机没有 Apple GPU。</translation>
    </message>
    <message>
        <source>This GPU does not support bfloat16; use float16.</source>
        <translation>此 GPU 不支持 bfloat16，请使用 float16。</translation>
    </message>
    <message>
        <source>All on one device (the CPU here)</source>
        <translation>全部放在同一设备上（本机为 CPU）</translation>
    </message>
    <message>
        <source>This machine: {gpu}, {vram} GB of VRAM.</source>
        <translation>本机：{gpu}，显存 {vram} GB。</translation>
    </message>
    <message>
        <source>This machine: Apple GPU (MPS).</source>
        <translation>本机：Apple GPU（MPS）。</translation>
    </message>
    <message>
        <source>This machine has no GPU that PyTorch can use: jobs run on the CPU (slowly).</source>
        <translation>本机没有 PyTorch 可用的 GPU：任务将在 CPU 上运行（较慢）。</translation>
    </message>
    <message>
        <source>Only with &apos;All on GPU&apos;: the offload modes manage the text encoders themselves.</source>
        <translation>仅适用于“全部放在 GPU 上”：各卸载模式会自行管理文本编码器。</translation>
    </message>
    <message>
        <source>Only on a GPU: on the CPU there is no VRAM to free.</source>
        <translation>仅适用于 GPU：在 CPU 上没有需要释放的显存。</translation>
    </message>
    <message>
        <source>Nothing fits in the free GPU memory; these are the lowest-memory settings. Try a smaller size or fewer frames.</source>
        <translation>空闲显存放不下任何设置；这些是最省内存的设置。请尝试更小的尺寸或更少的帧数。</translation>
    </message>
    <message>
        <source>Recommended: {0}.</source>
        <translation>推荐：{0}。</translation>
    </message>
    <message>
        <source>The current settings are already the fastest that fit.</source>
        <translation>当前设置已经是能放下的最快设置。</translation>
    </message>
    <message>
        <source>Needs a GPU whose free memory can be read (NVIDIA, NVML).</source>
        <translation>需要能读取空闲显存的 GPU（NVIDIA、NVML）。</translation>
    </message>
    <message>
        <source>Estimating needs the machine check to finish…</source>
        <translation>估算需要等待本机检查完成…</translation>
    </message>
    <message>
        <source>while encoding the prompt</source>
        <translation>编码提示词时</translation>
    </message>
    <message>
        <source>while denoising</source>
        <translation>去噪时</translation>
    </message>
    <message>
        <source>while decoding</source>
        <translation>解码时</translation>
    </message>
    <message>
        <source>Runs on the CPU: about {0} GB of RAM; very slow (an estimate of {1}).</source>
        <translation>在 CPU 上运行：约需 {0} GB 内存；非常慢（估计 {1}）。</translation>
    </message>
    <message>
        <source>Needs about {0} GB of GPU memory at its peak ({1}); about {2} on this GPU.</source>
        <translation>峰值约需 {0} GB 显存（{1}）；在此 GPU 上约需 {2}。</translation>
    </message>
    <message>
        <source>Fits: about {0} GB at its peak ({1}), {2} GB free. About {3} ({4} s per step).</source>
        <translation>放得下：峰值约 {0} GB（{1}），空闲 {2} GB。约需 {3}（每步 {4} 秒）。</translation>
    </message>
    <message>
        <source>Will not fit: needs about {0} GB ({1}), {2} GB free. Press Recommend for settings that fit.</source>
        <translation>放不下：约需 {0} GB（{1}），空闲 {2} GB。按“推荐”获取能放下的设置。</translation>
    </message>
    <message>
        <source>{0} s</source>
        <translation>{0} 秒</translation>
    </message>
    <message>
        <source>{0} min</source>
        <translation>{0} 分钟</translation>
    </message>
    <message>
        <source>{0} h</source>
        <translation>{0} 小时</translation>
    </message>
</context>
<context>
    <name>ModelPicker</name>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Folder with model_index.json</source>
        <translation>包含 model_index.json 的文件夹</translation>
    </message>
    <message>
        <source>The ContentV-8B folder (diffusers layout: transformer/, vae/, text_encoder*/, …).</source>
        <translation>ContentV-8B 模型文件夹（diffusers 目录结构：transformer/、vae/、text_encoder*/ 等）。</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Choose the model folder.</source>
        <translation>选择模型文件夹。</translation>
    </message>
    <message>
        <source>Recent</source>
        <translation>最近使用</translation>
    </message>
    <message>
        <source>Model folders used before.</source>
        <translation>以前用过的模型文件夹。</translation>
    </message>
    <message>
        <source>Make a demo model…</source>
        <translation>生成演示模型…</translation>
    </message>
    <message>
        <source>A tiny random-weight model (13 MB) to check the install without the big download.</source>
        <translation>一个随机权重的小模型（13 MB），无需下载大模型即可检查安装是否正常。</translation>
    </message>
    <message>
        <source>Get ContentV-8B…</source>
        <translation>获取 ContentV-8B…</translation>
    </message>
    <message>
        <source>Download the model (about 27 GB) into a folder you choose.</source>
        <translation>将模型（约 27 GB）下载到你选择的文件夹。</translation>
    </message>
    <message>
        <source>Choose the ContentV model folder</source>
        <translation>选择 ContentV 模型文件夹</translation>
    </message>
    <message>
        <source>Clear the list</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <source>The demo model could not be written to {folder}: {error}</source>
        <translation>无法将演示模型写入 {folder}：{error}</translation>
    </message>
    <message>
        <source>Making the demo model…</source>
        <translation>正在生成演示模型…</translation>
    </message>
    <message>
        <source>Checking the folder…</source>
        <translation>正在检查文件夹…</translation>
    </message>
    <message>
        <source>Choose the ContentV-8B folder (the one holding &lt;i&gt;model_index.json&lt;/i&gt;), or make a demo model to check the install.</source>
        <translation>请选择 ContentV-8B 模型文件夹（包含 &lt;i&gt;model_index.json&lt;/i&gt; 的文件夹），或生成一个演示模型来检查安装。</translation>
    </message>
    <message>
        <source>✓ Complete ContentV model · {size} of weights — a small test model</source>
        <translation>✓ 完整的 ContentV 模型 · 权重 {size} — 小型测试模型</translation>
    </message>
    <message>
        <source>✓ Complete ContentV model · {size} of weights</source>
        <translation>✓ 完整的 ContentV 模型 · 权重 {size}</translation>
    </message>
    <message>
        <source>✗ Not a usable ContentV model folder:</source>
        <translation>✗ 不是可用的 ContentV 模型文件夹：</translation>
    </message>
</context>
<context>
    <name>NvmlReader</name>
    <message>
        <source>The NVIDIA driver stopped answering ({error}).</source>
        <translation>NVIDIA 驱动已停止响应（{error}）。</translation>
    </message>
    <message>
        <source>The NVIDIA GPU cannot be read ({error}).</source>
        <translation>无法读取 NVIDIA GPU（{error}）。</translation>
    </message>
</context>
<context>
    <name>ParameterForm</name>
    <message>
        <source>Landscape 768 × 432 (official)</source>
        <translation>横屏 768 × 432（官方）</translation>
    </message>
    <message>
        <source>Portrait 432 × 768</source>
        <translation>竖屏 432 × 768</translation>
    </message>
    <message>
        <source>Square 576 × 576</source>
        <translation>方形 576 × 576</translation>
    </message>
    <message>
        <source>Small landscape 512 × 288 (quick)</source>
        <translation>小横屏 512 × 288（快速）</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>{seconds:.2f} s at {fps} fps</source>
        <translation>{seconds:.2f} 秒，{fps} fps</translation>
    </message>
    <message>
        <source>Common sizes. ContentV was trained at 768 × 432.</source>
        <translation>常用尺寸。ContentV 以 768 × 432 训练。</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <source>Width</source>
        <translation>宽度</translation>
    </message>
    <message>
        <source>Height</source>
        <translation>高度</translation>
    </message>
    <message>
        <source>Pixels; a multiple of 16 (other values are rounded to the nearest one).</source>
        <translation>像素；16 的倍数（其他值会取整到最接近的倍数）。</translation>
    </message>
    <message>
        <source>Swap width and height (landscape ↔ portrait).</source>
        <translation>交换宽度和高度（横屏 ↔ 竖屏）。</translation>
    </message>
    <message>
        <source>Width × height</source>
        <translation>宽 × 高</translation>
    </message>
    <message>
        <source> frames</source>
        <translation> 帧</translation>
    </message>
    <message>
        <source>Frames</source>
        <translation>帧数</translation>
    </message>
    <message>
        <source>Number of frames; the video VAE needs 4k + 1 (…, 97, 121, 125, …). Other counts are rounded down.</source>
        <translation>帧数；视频 VAE 需要 4k + 1（…、97、121、125、…）。其他数量会向下取整。</translation>
    </message>
    <message>
        <source>Length</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>Frame rate</source>
        <translation>帧率</translation>
    </message>
    <message>
        <source>Playback frame rate of the saved clip (ContentV was trained on 24 fps). Pick one or type any from 1 to 240: 23.976, 29.97 and 59.94 are the exact NTSC rates (24000/1001 …).</source>
        <translation>保存的视频的播放帧率（ContentV 以 24 fps 训练）。可从列表中选择，或输入 1 到 240 之间的任意值：23.976、29.97 和 59.94 按精确的分数帧率（24000/1001 …）保存。</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Denoising steps. 50 is the official setting; fewer is faster and rougher.</source>
        <translation>去噪步数。官方设置为 50；步数越少越快，画面越粗糙。</translation>
    </message>
    <message>
        <source>Guidance</source>
        <translation>引导强度</translation>
    </message>
    <message>
        <source>How strongly the video follows the prompt (classifier-free guidance). 6 is the official setting; 1 or less skips the negative prompt and runs about twice as fast.</source>
        <translation>视频遵循提示词的程度（无分类器引导）。官方设置为 6；1 或以下会跳过反向提示词，速度约快一倍。</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <source>The same seed with the same settings gives the same clip.</source>
        <translation>相同的种子和相同的设置会得到相同的视频。</translation>
    </message>
    <message>
        <source>Pick a new random seed now.</source>
        <translation>立即选一个新的随机种子。</translation>
    </message>
    <message>
        <source>Random seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Lock seed</source>
        <translation>锁定种子</translation>
    </message>
    <message>
        <source>{frames} frames will run as {snapped} (the VAE needs 4k + 1).</source>
        <translation>{frames} 帧将按 {snapped} 帧运行（VAE 需要 4k + 1）。</translation>
    </message>
    <message>
        <source>The {name} becomes {snapped} (a multiple of 16).</source>
        <translation>{name}将变为 {snapped}（16 的倍数）。</translation>
    </message>
    <message>
        <source>width</source>
        <translation>宽度</translation>
    </message>
    <message>
        <source>height</source>
        <translation>高度</translation>
    </message>
    <message>
        <source>{name} {value} was rounded to {snapped}: sizes are multiples of 16.</source>
        <translation>{name} {value} 已取整为 {snapped}：尺寸须为 16 的倍数。</translation>
    </message>
    <message>
        <source>{value} frames was rounded to {snapped}: the video VAE needs 4k + 1 frames.</source>
        <translation>{value} 帧已取整为 {snapped}：视频 VAE 需要 4k + 1 帧。</translation>
    </message>
    <message>
        <source>Seed locked: every job uses this seed. Click to draw a new seed for each job.</source>
        <translation>种子已锁定：每个任务都使用此种子。点击可让每个任务抽取新种子。</translation>
    </message>
    <message>
        <source>Seed unlocked: each job draws a new random seed. Click to keep this one.</source>
        <translation>种子未锁定：每个任务抽取新的随机种子。点击可保留当前种子。</translation>
    </message>
</context>
<context>
    <name>PreviewPanel</name>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Show the clip as it forms every this many denoising steps (0: no preview; costs under 2 %).</source>
        <translation>每隔这么多去噪步显示视频的成形过程（0：不预览；开销低于 2%）。</translation>
    </message>
    <message>
        <source>Preview every</source>
        <translation>预览间隔</translation>
    </message>
    <message>
        <source>steps</source>
        <translation>步</translation>
    </message>
</context>
<context>
    <name>PreviewView</name>
    <message>
        <source>Live preview</source>
        <translation>实时预览</translation>
    </message>
    <message>
        <source>What the clip looks like so far (a rough colour preview of the denoising).</source>
        <translation>视频目前的样子（去噪过程的粗略彩色预览）。</translation>
    </message>
    <message>
        <source>The preview appears while the clip is denoised.</source>
        <translation>去噪时会在这里显示预览。</translation>
    </message>
</context>
<context>
    <name>PromptEditor</name>
    <message>
        <source>Describe the video: subject, action, setting, camera, light.
e.g. A red fox trots through fresh snow at dawn, low tracking shot, soft golden light.</source>
        <translation>描述视频：主体、动作、场景、镜头、光线。
例如：黎明时分，一只红狐狸在新雪中小跑，低角度跟拍，柔和的金色光线。</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>What the video shows. Ctrl+Enter generates.</source>
        <translation>视频要表现的内容。Ctrl+Enter 生成。</translation>
    </message>
    <message>
        <source>&amp;Negative prompt</source>
        <translation>反向提示词(&amp;N)</translation>
    </message>
    <message>
        <source>Official default</source>
        <translation>官方默认</translation>
    </message>
    <message>
        <source>Put back the official demo&apos;s negative prompt.</source>
        <translation>恢复官方示例的反向提示词。</translation>
    </message>
    <message>
        <source>Negative prompt</source>
        <translation>反向提示词</translation>
    </message>
    <message>
        <source>What the video should avoid. Used when guidance is above 1.</source>
        <translation>视频应避免的内容。引导强度大于 1 时使用。</translation>
    </message>
</context>
<context>
    <name>QueueModel</name>
    <message>
        <source>{w}×{h}, {frames} frames, {steps} steps, seed {seed}</source>
        <translation>{w}×{h}，{frames} 帧，{steps} 步，种子 {seed}</translation>
    </message>
    <message>
        <source>Finish #{job} → {what}</source>
        <translation>处理 #{job} → {what}</translation>
    </message>
    <message>
        <source>Draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>Final of #{job}</source>
        <translation>#{job} 的定稿</translation>
    </message>
    <message>
        <source>interrupted at step {step} of {steps}</source>
        <translation>中断于第 {step}/{steps} 步</translation>
    </message>
</context>
<context>
    <name>QueuePanel</name>
    <message>
        <source>Waiting jobs</source>
        <translation>等待中的任务</translation>
    </message>
    <message>
        <source>Up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Run the selected job earlier.</source>
        <translation>提前运行所选任务。</translation>
    </message>
    <message>
        <source>Down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Run the selected job later.</source>
        <translation>推后运行所选任务。</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Take the selected job out of the queue (Delete).</source>
        <translation>将所选任务移出队列（Delete）。</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <source>Take every waiting job out of the queue.</source>
        <translation>将所有等待中的任务移出队列。</translation>
    </message>
    <message>
        <source>Start over</source>
        <translation>从头开始</translation>
    </message>
    <message>
        <source>Run the selected interrupted job from the beginning instead of where it stopped (same seed).</source>
        <translation>从头运行所选的中断任务，而不是从中断处继续（相同种子）。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Run the waiting jobs (the queue is paused).</source>
        <translation>运行等待中的任务（队列已暂停）。</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Let the running job finish, then start no other.</source>
        <translation>让正在运行的任务完成，之后不再开始其他任务。</translation>
    </message>
    <message numerus="yes">
        <source>Queue: %n job(s) waiting, paused</source>
        <translation>
            <numerusform>队列：%n 个任务等待中，已暂停</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Queue: %n job(s) waiting</source>
        <translation>
            <numerusform>队列：%n 个任务等待中</numerusform>
        </translation>
    </message>
    <message>
        <source>Queue: empty</source>
        <translation>队列：空</translation>
    </message>
    <message>
        <source>Running: {prompt} (seed {seed})</source>
        <translation>正在运行：{prompt}（种子 {seed}）</translation>
    </message>
</context>
<context>
    <name>RecordActions</name>
    <message>
        <source>The job continues where it stopped.</source>
        <translation>任务将从中断处继续。</translation>
    </message>
    <message>
        <source>The job starts over from the beginning (same seed).</source>
        <translation>任务将从头重新开始（相同种子）。</translation>
    </message>
    <message>
        <source>Decoding again with lower memory settings; no step runs again.</source>
        <translation>正在以更低内存设置重新解码；不会重新运行任何步骤。</translation>
    </message>
    <message>
        <source>The history could not be updated: {error}</source>
        <translation>无法更新历史记录：{error}</translation>
    </message>
    <message>
        <source>Loaded the job into the form (seed locked: Generate makes the same clip).</source>
        <translation>已将任务载入表单（种子已锁定：生成将得到相同的视频）。</translation>
    </message>
    <message>
        <source>Only a finished draft can be made final.</source>
        <translation>只有已完成的草稿才能定稿。</translation>
    </message>
    <message>
        <source>Final of draft #{job} queued: {steps} steps, seed {seed}.</source>
        <translation>草稿 #{job} 的定稿已加入队列：{steps} 步，种子 {seed}。</translation>
    </message>
    <message>
        <source>This job has no clip to finish.</source>
        <translation>此任务没有可处理的视频。</translation>
    </message>
    <message>
        <source>This clip is not in the history; open it from there.</source>
        <translation>此视频不在历史记录中；请从历史记录中打开。</translation>
    </message>
    <message>
        <source>Finishing #{job} queued: {what}.</source>
        <translation>已将 #{job} 的后期处理加入队列：{what}。</translation>
    </message>
    <message>
        <source>This job has no clip to play.</source>
        <translation>此任务没有可播放的视频。</translation>
    </message>
    <message>
        <source>Comparing {count} clips: decoding them first…</source>
        <translation>比较 {count} 段视频：正在先解码…</translation>
    </message>
    <message>
        <source>Cancel the running job before deleting it.</source>
        <translation>请先取消正在运行的任务再删除。</translation>
    </message>
    <message>
        <source>Delete this job from the history and its video file?</source>
        <translation>从历史记录中删除此任务及其视频文件？</translation>
    </message>
    <message>
        <source>Delete this job from the history?</source>
        <translation>从历史记录中删除此任务？</translation>
    </message>
    <message>
        <source>{file}

The file is deleted, not moved to the trash.</source>
        <translation>{file}

文件将被删除，而不是移到回收站。</translation>
    </message>
    <message>
        <source>Delete job</source>
        <translation>删除任务</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Deleted.</source>
        <translation>已删除。</translation>
    </message>
    <message>
        <source>Select one job for this; {count} are selected.</source>
        <translation>此操作只能针对一个任务；当前选中了 {count} 个。</translation>
    </message>
</context>
<context>
    <name>SeedSpinBox</name>
    <message>
        <source>Seed: {typed} is above the largest seed, {max}; it was set to {max}.</source>
        <translation>种子：{typed} 超过最大种子 {max}，已设为 {max}。</translation>
    </message>
    <message>
        <source>Seed: “{typed}” is not a whole number from 0 to {max}; it stays {value}.</source>
        <translation>种子：“{typed}”不是 0 到 {max} 之间的整数，保持为 {value}。</translation>
    </message>
</context>
<context>
    <name>SpeedPanel</name>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Every step computes every block: the official result, the slowest.</source>
        <translation>每一步计算所有模块：与官方结果一致，速度最慢。</translation>
    </message>
    <message>
        <source>Fast</source>
        <translation>快</translation>
    </message>
    <message>
        <source>Reuses the transformer&apos;s work between steps where it barely changes. With this model&apos;s MagCache calibration it skips about a third of the transformer calls; without one, the First-Block cache skips only steps whose first block changed by less than 5 % (conservative, often none). A small quality cost: fine detail can differ slightly from the uncached clip with the same seed.</source>
        <translation>在 Transformer 输出几乎不变的步骤之间复用其计算结果。有此模型的 MagCache 校准时，约跳过三分之一的 Transformer 调用；没有校准时，First-Block 缓存只跳过首个模块变化小于 5% 的步骤（保守，常常一步也不跳过）。质量略有损失：细节可能与相同种子下不用缓存的视频稍有不同。</translation>
    </message>
    <message>
        <source>Faster</source>
        <translation>更快</translation>
    </message>
    <message>
        <source>Reuses more: with a MagCache calibration about half the transformer calls are skipped; without one, TaylorSeer predicts the attention of two steps in three after two warm-up steps. A visible quality cost is possible (softer detail, small drifts in motion); compare with Off on a short clip.</source>
        <translation>复用更多：有 MagCache 校准时约跳过一半的 Transformer 调用；没有校准时，TaylorSeer 在两步预热后，每三步中预测两步的注意力。可能出现可见的质量损失（细节变软、运动略有漂移）；请用短视频与“关闭”对比。</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>PyTorch&apos;s default</source>
        <translation>PyTorch 默认</translation>
    </message>
    <message>
        <source>PyTorch math (exact, slowest)</source>
        <translation>PyTorch math（精确，最慢）</translation>
    </message>
    <message>
        <source>Memory-efficient (PyTorch)</source>
        <translation>省内存（PyTorch）</translation>
    </message>
    <message>
        <source>Flash (PyTorch, FlashAttention-2)</source>
        <translation>Flash（PyTorch，FlashAttention-2）</translation>
    </message>
    <message>
        <source>cuDNN fused attention</source>
        <translation>cuDNN 融合注意力</translation>
    </message>
    <message>
        <source>flash-attn package (FA2 / FA3)</source>
        <translation>flash-attn 包（FA2 / FA3）</translation>
    </message>
    <message>
        <source>SageAttention (int8, approximate)</source>
        <translation>SageAttention（int8，近似）</translation>
    </message>
    <message>
        <source>One after the other</source>
        <translation>依次运行</translation>
    </message>
    <message>
        <source>The two guidance branches run one after the other: the official numbers bit for bit and half the activation memory. As fast as batching at ContentV-8B&apos;s size (measured on an H100).</source>
        <translation>两个引导分支依次运行：与官方数值逐位一致，激活内存减半。在 ContentV-8B 的规模下与批处理一样快（在 H100 上测得）。</translation>
    </message>
    <message>
        <source>Batched</source>
        <translation>批处理</translation>
    </message>
    <message>
        <source>Both guidance branches as one batch of two: may be faster for small clips, needs about twice the activation memory (about 2.5 GB more at 768 × 432 × 125), and in bf16 differs slightly from the official numbers.</source>
        <translation>两个引导分支合为一批（两个样本）：短小的视频可能更快，激活内存约需两倍（768 × 432 × 125 时约多 2.5 GB），且在 bf16 下与官方数值略有差异。</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Measures both ways on the first job of a size and keeps the faster one for the next jobs of that size; the estimate assumes one after the other.</source>
        <translation>在某一尺寸的第一个任务上测量两种方式，之后同尺寸的任务使用较快的一种；估算按依次运行计算。</translation>
    </message>
    <message>
        <source>Step cache</source>
        <translation>步骤缓存</translation>
    </message>
    <message>
        <source>Attention kernel</source>
        <translation>注意力内核</translation>
    </message>
    <message>
        <source>The kernel that computes attention, about four fifths of the transformer&apos;s time. Auto picks the fastest one this GPU and precision can run; a kernel chosen by name is used or the job is refused.</source>
        <translation>计算注意力的内核，约占 Transformer 五分之四的时间。“自动”会选择此 GPU 和精度下能运行的最快内核；按名称选择的内核要么被使用，要么任务被拒绝。</translation>
    </message>
    <message>
        <source>Guidance</source>
        <translation>引导</translation>
    </message>
    <message>
        <source>Compile the transformer&apos;s blocks</source>
        <translation>编译 Transformer 的模块</translation>
    </message>
    <message>
        <source>torch.compile of the repeated transformer blocks (regional compile): faster steps on a GPU. The first job after loading, or after a change of size, pays the compile time (often a minute or more); the history shows how long it took.</source>
        <translation>对重复的 Transformer 模块执行 torch.compile（区域编译）：在 GPU 上每步更快。加载后或更改尺寸后的第一个任务需要承担编译时间（通常一分钟或更久）；历史记录会显示用时。</translation>
    </message>
    <message>
        <source>The first job pays the compile time.</source>
        <translation>第一个任务需要承担编译时间。</translation>
    </message>
    <message>
        <source>Auto ({kernel} here)</source>
        <translation>自动（本机为 {kernel}）</translation>
    </message>
    <message>
        <source>{kernel} — unavailable</source>
        <translation>{kernel} — 不可用</translation>
    </message>
    <message>
        <source>Unavailable here: {reason}.</source>
        <translation>本机不可用：{reason}。</translation>
    </message>
    <message>
        <source>{kernel} cannot run here ({reason}); using Auto.</source>
        <translation>{kernel} 无法在本机运行（{reason}）；改用“自动”。</translation>
    </message>
    <message>
        <source>MagCache calibration: choose a model to check.</source>
        <translation>MagCache 校准：请选择模型以检查。</translation>
    </message>
    <message>
        <source>This model has a MagCache calibration: Fast and Faster use MagCache.</source>
        <translation>此模型有 MagCache 校准：“快”和“更快”使用 MagCache。</translation>
    </message>
    <message>
        <source>No MagCache calibration for this model yet: one is recorded during the next job with the step cache off and at least 8 steps. Until then Fast uses the First-Block cache, Faster TaylorSeer.</source>
        <translation>此模型还没有 MagCache 校准：下一个关闭步骤缓存且至少 8 步的任务会记录一份。在此之前，“快”使用 First-Block 缓存，“更快”使用 TaylorSeer。</translation>
    </message>
    <message>
        <source>Which kernels run here is known once the engine has started.</source>
        <translation>引擎启动后才能知道本机可运行哪些内核。</translation>
    </message>
    <message>
        <source>Auto uses {kernel} here.</source>
        <translation>“自动”在本机使用 {kernel}。</translation>
    </message>
    <message>
        <source>Greyed-out kernels cannot run here; point at one for the reason.</source>
        <translation>灰色的内核无法在本机运行；将指针移到其上可查看原因。</translation>
    </message>
</context>
<context>
    <name>VideoPlayer</name>
    <message>
        <source>Video player</source>
        <translation>视频播放器</translation>
    </message>
    <message>
        <source>Your clip will play here.

Write a prompt and press Generate (Ctrl+Enter).</source>
        <translation>你的视频将在这里播放。

写好提示词后按“生成”（Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>Play / pause (or click the picture and press Space)</source>
        <translation>播放 / 暂停（或点击画面后按空格键）</translation>
    </message>
    <message>
        <source>Play or pause</source>
        <translation>播放或暂停</translation>
    </message>
    <message>
        <source>One frame back (,)</source>
        <translation>后退一帧（,）</translation>
    </message>
    <message>
        <source>Previous frame</source>
        <translation>上一帧</translation>
    </message>
    <message>
        <source>One frame forward (.)</source>
        <translation>前进一帧（.）</translation>
    </message>
    <message>
        <source>Next frame</source>
        <translation>下一帧</translation>
    </message>
    <message>
        <source>Full screen (F or double-click the picture; Esc leaves)</source>
        <translation>全屏（按 F 或双击画面；Esc 退出）</translation>
    </message>
    <message>
        <source>Full screen</source>
        <translation>全屏</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <source>Show the clip in its folder.</source>
        <translation>在文件夹中显示此视频。</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Export the clip as WebM, an animated GIF or PNG frames.</source>
        <translation>将视频导出为 WebM、GIF 动图或 PNG 帧。</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>后期处理</translation>
    </message>
    <message>
        <source>Upscale the clip or raise its frame rate, into a new clip.</source>
        <translation>放大视频或提高帧率，生成新视频。</translation>
    </message>
    <message>
        <source>Upscale…</source>
        <translation>放大…</translation>
    </message>
    <message>
        <source>Interpolate…</source>
        <translation>插帧…</translation>
    </message>
    <message>
        <source>This clip cannot be played here ({message}). Open its folder to play it elsewhere.</source>
        <translation>此处无法播放此视频（{message}）。请打开其文件夹，用其他程序播放。</translation>
    </message>
</context>
<context>
    <name>VramGauge</name>
    <message>
        <source>Memory use</source>
        <translation>内存占用</translation>
    </message>
    <message>
        <source>GPU …</source>
        <translation>显存 …</translation>
    </message>
    <message>
        <source>RAM …</source>
        <translation>内存 …</translation>
    </message>
    <message>
        <source>GPU {used} / {total} GB</source>
        <translation>显存 {used} / {total} GB</translation>
    </message>
    <message>
        <source> · peak {peak}</source>
        <translation> · 峰值 {peak}</translation>
    </message>
    <message>
        <source> · peak {peak} (last job)</source>
        <translation> · 峰值 {peak}（上个任务）</translation>
    </message>
    <message>
        <source>{gpu}: {used} GB of {total} GB in use (all programs).</source>
        <translation>{gpu}：已用 {used} GB，共 {total} GB（所有程序）。</translation>
    </message>
    <message>
        <source>Highest during this job: {peak} GB.</source>
        <translation>本任务期间最高：{peak} GB。</translation>
    </message>
    <message>
        <source>Highest during the last job: {peak} GB.</source>
        <translation>上个任务期间最高：{peak} GB。</translation>
    </message>
    <message>
        <source>PyTorch&apos;s own peak allocation in the last job: {peak} GB.</source>
        <translation>上个任务中 PyTorch 自身分配的峰值：{peak} GB。</translation>
    </message>
    <message>
        <source>No NVIDIA GPU found — jobs run on the CPU</source>
        <translation>未找到 NVIDIA GPU — 任务将在 CPU 上运行</translation>
    </message>
    <message>
        <source>GPU memory is read through NVIDIA&apos;s driver (NVML); it found no GPU to read.</source>
        <translation>显存信息通过 NVIDIA 驱动（NVML）读取，但没有找到可读取的 GPU。</translation>
    </message>
    <message>
        <source>RAM {used} / {total} GB</source>
        <translation>内存 {used} / {total} GB</translation>
    </message>
    <message>
        <source>System memory in use (all programs).</source>
        <translation>已用的系统内存（所有程序）。</translation>
    </message>
</context>
<context>
    <name>action_row</name>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>choose_demo_target</name>
    <message>
        <source>Make a demo model</source>
        <translation>生成演示模型</translation>
    </message>
    <message>
        <source>Make a tiny demo model to check the install?</source>
        <translation>要生成一个小型演示模型来检查安装吗？</translation>
    </message>
    <message>
        <source>It has the real model&apos;s layout but random weights, so its videos are coloured noise. It takes about 13 MB and a few seconds, and shows that loading, generating and playing work on this computer.

It will be written to:
{folder}</source>
        <translation>它与真实模型的目录结构相同，但权重是随机的，因此生成的视频是彩色噪点。它约占 13 MB，只需几秒钟，可以验证这台电脑上的加载、生成和播放都能正常工作。

将写入：
{folder}</translation>
    </message>
    <message>
        <source>Create</source>
        <translation>创建</translation>
    </message>
    <message>
        <source>Choose folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <source>Folder for the demo model</source>
        <translation>演示模型的文件夹</translation>
    </message>
</context>
<context>
    <name>classify_exception</name>
    <message>
        <source>The computer ran out of system memory (RAM).</source>
        <translation>电脑的系统内存（RAM）已耗尽。</translation>
    </message>
    <message>
        <source>Close other programs, or choose a smaller size or fewer frames.</source>
        <translation>请关闭其他程序，或选择更小的尺寸、更少的帧数。</translation>
    </message>
    <message>
        <source>The GPU ran out of memory ({error}).</source>
        <translation>GPU 显存不足（{error}）。</translation>
    </message>
    <message>
        <source>This is a bug in ContentV Studio.</source>
        <translation>这是 ContentV Studio 的程序缺陷。</translation>
    </message>
    <message>
        <source>The details are in {log_file}.</source>
        <translation>详细信息见 {log_file}。</translation>
    </message>
    <message>
        <source>Something went wrong: {error}</source>
        <translation>出错了：{error}</translation>
    </message>
</context>
<context>
    <name>clip_info</name>
    <message>
        <source>{frames} frames at {fps} fps ({seconds} s)</source>
        <translation>{frames} 帧，{fps} fps（{seconds} 秒）</translation>
    </message>
    <message>
        <source>{steps} steps</source>
        <translation>{steps} 步</translation>
    </message>
    <message>
        <source>guidance {guidance}</source>
        <translation>引导强度 {guidance}</translation>
    </message>
    <message>
        <source>seed {seed}</source>
        <translation>种子 {seed}</translation>
    </message>
    <message>
        <source>made in {seconds} s</source>
        <translation>用时 {seconds} 秒</translation>
    </message>
</context>
<context>
    <name>confirm</name>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
</context>
<context>
    <name>core</name>
    <message>
        <source>Choose --attention auto to use the fastest one available.</source>
        <translation>选择 --attention auto 以使用可用的最快内核。</translation>
    </message>
    <message>
        <source>{package} {version} is installed, but diffusers needs {minimum} or newer (pip install -U {package})</source>
        <translation>已安装 {package} {version}，但 diffusers 需要 {minimum} 或更高版本（pip install -U {package}）</translation>
    </message>
    <message>
        <source>the memory-efficient kernel needs a GPU of compute capability 5.0 or newer</source>
        <translation>省内存内核需要计算能力 5.0 或更高的 GPU</translation>
    </message>
    <message>
        <source>PyTorch&apos;s flash kernel needs bfloat16 or float16</source>
        <translation>PyTorch 的 flash 内核需要 bfloat16 或 float16</translation>
    </message>
    <message>
        <source>cuDNN attention needs bfloat16 or float16</source>
        <translation>cuDNN 注意力需要 bfloat16 或 float16</translation>
    </message>
    <message>
        <source>the flash-attn package is not installed (pip install flash-attn)</source>
        <translation>未安装 flash-attn 包（pip install flash-attn）</translation>
    </message>
    <message>
        <source>flash-attn needs an Ampere GPU or newer</source>
        <translation>flash-attn 需要 Ampere 或更新的 GPU</translation>
    </message>
    <message>
        <source>flash-attn needs bfloat16 or float16</source>
        <translation>flash-attn 需要 bfloat16 或 float16</translation>
    </message>
    <message>
        <source>the sageattention package is not installed (pip install sageattention)</source>
        <translation>未安装 sageattention 包（pip install sageattention）</translation>
    </message>
    <message>
        <source>SageAttention needs an Ampere GPU or newer</source>
        <translation>SageAttention 需要 Ampere 或更新的 GPU</translation>
    </message>
    <message>
        <source>SageAttention needs bfloat16 or float16</source>
        <translation>SageAttention 需要 bfloat16 或 float16</translation>
    </message>
    <message>
        <source>&apos;{kernel}&apos; is not an attention kernel this app knows</source>
        <translation>“{kernel}”不是本程序认识的注意力内核</translation>
    </message>
    <message>
        <source>the &apos;{kernel}&apos; attention kernel needs a CUDA GPU</source>
        <translation>“{kernel}”注意力内核需要 CUDA GPU</translation>
    </message>
    <message>
        <source>PyTorch&apos;s flash kernel needs an Ampere GPU or newer (this one is {arch})</source>
        <translation>PyTorch 的 flash 内核需要 Ampere 或更新的 GPU（此 GPU 为 {arch}）</translation>
    </message>
    <message>
        <source>cuDNN attention needs an Ampere GPU or newer (this one is {arch})</source>
        <translation>cuDNN 注意力需要 Ampere 或更新的 GPU（此 GPU 为 {arch}）</translation>
    </message>
    <message>
        <source>The attention kernel &apos;{kernel}&apos; cannot run here: {reason}.</source>
        <translation>注意力内核“{kernel}”无法在本机运行：{reason}。</translation>
    </message>
    <message>
        <source>The &apos;{kernel}&apos; attention kernel was not used: {reason}; using &apos;{chosen}&apos; instead.</source>
        <translation>未使用注意力内核“{kernel}”：{reason}；改用“{chosen}”。</translation>
    </message>
    <message>
        <source>Under a split each GPU holds only its part of the step cache&apos;s state, so the cache restarted at the resumed step; the clip may differ slightly from an uninterrupted one.</source>
        <translation>拆分运行时每个 GPU 只持有步骤缓存状态的一部分，因此缓存在恢复的步骤处重新开始；该片段可能与未中断时的结果略有不同。</translation>
    </message>
    <message>
        <source>Download ContentV-8B (all of its folders) again, or pick the folder that holds model_index.json.</source>
        <translation>请重新下载 ContentV-8B（包括其全部文件夹），或选择包含 model_index.json 的文件夹。</translation>
    </message>
    <message>
        <source>The config.json files do not describe these weights; download the folder again.</source>
        <translation>这些 config.json 文件与权重不符；请重新下载该文件夹。</translation>
    </message>
    <message>
        <source>a download into it has not finished (run it again to resume)</source>
        <translation>其中的下载尚未完成（再次运行即可继续）</translation>
    </message>
    <message>
        <source>model_index.json is missing</source>
        <translation>缺少 model_index.json</translation>
    </message>
    <message>
        <source>The folder looked complete but a component could not be read; download it again.</source>
        <translation>该文件夹看似完整，但有组件无法读取；请重新下载。</translation>
    </message>
    <message>
        <source>{path} is not a usable ContentV model folder: {problems}.</source>
        <translation>{path} 不是可用的 ContentV 模型文件夹：{problems}。</translation>
    </message>
    <message>
        <source>permission denied</source>
        <translation>权限被拒绝</translation>
    </message>
    <message>
        <source>the folder does not exist</source>
        <translation>文件夹不存在</translation>
    </message>
    <message>
        <source>it is a file, not a folder</source>
        <translation>这是文件，不是文件夹</translation>
    </message>
    <message>
        <source>the folder is unreadable (permission denied)</source>
        <translation>文件夹无法读取（权限被拒绝）</translation>
    </message>
    <message>
        <source>model_index.json is unreadable</source>
        <translation>model_index.json 无法读取</translation>
    </message>
    <message>
        <source>Use the model&apos;s .safetensors files (download the folder again from its official source).</source>
        <translation>请使用模型的 .safetensors 文件（从官方来源重新下载该文件夹）。</translation>
    </message>
    <message>
        <source>{path} is a complete ContentV model folder.</source>
        <translation>{path} 是完整的 ContentV 模型文件夹。</translation>
    </message>
    <message>
        <source>{part} weight file {file} is truncated or corrupt</source>
        <translation>{part} 的权重文件 {file} 不完整或已损坏</translation>
    </message>
    <message>
        <source>{path} cannot be read ({reason})</source>
        <translation>无法读取 {path}（{reason}）</translation>
    </message>
    <message>
        <source>{part}&apos;s weight index {file} is unreadable</source>
        <translation>{part} 的权重索引 {file} 无法读取</translation>
    </message>
    <message>
        <source>{part} weight shards are missing ({files})</source>
        <translation>{part} 缺少权重分片（{files}）</translation>
    </message>
    <message>
        <source>{part} has no weight file (*.safetensors)</source>
        <translation>{part} 中没有权重文件（*.safetensors）</translation>
    </message>
    <message>
        <source>{part} weight file {file} is unreadable (permission denied)</source>
        <translation>{part} 的权重文件 {file} 无法读取（权限被拒绝）</translation>
    </message>
    <message>
        <source>{part}&apos;s folder is unreadable (permission denied)</source>
        <translation>{part} 的文件夹无法读取（权限被拒绝）</translation>
    </message>
    <message>
        <source>{part} is missing</source>
        <translation>缺少 {part}</translation>
    </message>
    <message>
        <source>{part}&apos;s {file} is unreadable (permission denied)</source>
        <translation>{part} 的 {file} 无法读取（权限被拒绝）</translation>
    </message>
    <message>
        <source>Loading the model from {folder} failed: {error}</source>
        <translation>从 {folder} 加载模型失败：{error}</translation>
    </message>
    <message>
        <source>{part} has no {file}</source>
        <translation>{part} 中没有 {file}</translation>
    </message>
    <message>
        <source>A weight file in {folder} is a pickle that holds more than plain weights; it was refused because loading it could run code.</source>
        <translation>{folder} 中的一个权重文件是 pickle 格式，且包含的不只是纯权重；加载它可能会执行代码，因此已拒绝。</translation>
    </message>
    <message>
        <source>{part}&apos;s {file} is unreadable</source>
        <translation>{part} 的 {file} 无法读取</translation>
    </message>
    <message>
        <source>{part} has no {first} or {second}</source>
        <translation>{part} 中既没有 {first} 也没有 {second}</translation>
    </message>
    <message>
        <source>Give the model folder with --model DIR.</source>
        <translation>请用 --model DIR 指定模型文件夹。</translation>
    </message>
    <message>
        <source>--snapshot-every must be 0 or more (got {value}).</source>
        <translation>--snapshot-every 必须大于或等于 0（当前为 {value}）。</translation>
    </message>
    <message>
        <source>--collective-timeout must be a number of seconds above 0 (got {value}).</source>
        <translation>--collective-timeout 必须是大于 0 的秒数（当前为 {value}）。</translation>
    </message>
    <message>
        <source>There is no interrupted job {job} in {folder} (see &apos;resume --list&apos;).</source>
        <translation>{folder} 中没有中断的任务 {job}（请查看 “resume --list”）。</translation>
    </message>
    <message>
        <source>The job {job} is running in another process.</source>
        <translation>任务 {job} 正在另一个进程中运行。</translation>
    </message>
    <message>
        <source>--save-frames cannot go with --finish (the frames would be the unfinished clip&apos;s).</source>
        <translation>--save-frames 不能与 --finish 同用（保存的帧会是未加工的视频的帧）。</translation>
    </message>
    <message>
        <source>--finish takes key=value pairs separated by commas ({keys}), e.g. upscale=2,fps=48 (got &apos;{text}&apos;).</source>
        <translation>--finish 接受以逗号分隔的 键=值（{keys}），例如 upscale=2,fps=48（收到的是“{text}”）。</translation>
    </message>
    <message>
        <source>--finish interpolate= takes rife or ffmpeg (got &apos;{value}&apos;).</source>
        <translation>--finish interpolate= 只接受 rife 或 ffmpeg（收到的是“{value}”）。</translation>
    </message>
    <message>
        <source>The factor must be 2, 4 or 8 (got {value}).</source>
        <translation>倍数必须是 2、4 或 8（收到的是 {value}）。</translation>
    </message>
    <message>
        <source>--finish {key}= takes a number (got &apos;{value}&apos;).</source>
        <translation>--finish {key}= 需要一个数字（收到的是“{value}”）。</translation>
    </message>
    <message>
        <source>The clip {path} is missing.</source>
        <translation>视频 {path} 不见了。</translation>
    </message>
    <message>
        <source>The clip {path} has no frames.</source>
        <translation>视频 {path} 没有任何帧。</translation>
    </message>
    <message>
        <source>The clip {path} could not be read: {error}</source>
        <translation>无法读取视频 {path}：{error}</translation>
    </message>
    <message>
        <source>{path} holds no ContentV Studio parameters.</source>
        <translation>{path} 中没有 ContentV Studio 参数。</translation>
    </message>
    <message>
        <source>no {key}</source>
        <translation>缺少 {key}</translation>
    </message>
    <message>
        <source>{path} does not exist.</source>
        <translation>{path} 不存在。</translation>
    </message>
    <message>
        <source>{path} holds no ContentV Studio parameters, and there is no {sidecar} beside it.</source>
        <translation>{path} 中没有 ContentV Studio 参数，旁边也没有 {sidecar}。</translation>
    </message>
    <message>
        <source>the sidecar {name}</source>
        <translation>参数文件 {name}</translation>
    </message>
    <message>
        <source>the comment tag of {name}</source>
        <translation>{name} 的注释标签</translation>
    </message>
    <message>
        <source>{path} was written by ContentV Studio {version} in a newer format that this version ({ours}) cannot read; update ContentV Studio to open it.</source>
        <translation>{path} 由 ContentV Studio {version} 以更新的格式写入，此版本（{ours}）无法读取；请更新 ContentV Studio 后再打开。</translation>
    </message>
    <message>
        <source>{path} holds parameters that cannot run: {problems}</source>
        <translation>{path} 中的参数无法运行：{problems}</translation>
    </message>
    <message>
        <source>{path} records no seed, so its clip cannot be made again.</source>
        <translation>{path} 没有记录种子，无法重新生成该视频。</translation>
    </message>
    <message>
        <source>auto ({device} here)</source>
        <translation>auto（这里为 {device}）</translation>
    </message>
    <message>
        <source>Made on {gpus} GPUs; this machine has {present}.</source>
        <translation>使用 {gpus} 个 GPU 生成；本机有 {present} 个。</translation>
    </message>
    <message>
        <source>Made on {gpus} GPUs; this machine has no CUDA GPU.</source>
        <translation>使用 {gpus} 个 GPU 生成；本机没有 CUDA GPU。</translation>
    </message>
    <message>
        <source>the file {name}</source>
        <translation>文件 {name}</translation>
    </message>
    <message>
        <source>the text chunk of {name}</source>
        <translation>{name} 的文本块</translation>
    </message>
    <message>
        <source>the GIF comment of {name}</source>
        <translation>{name} 的 GIF 注释</translation>
    </message>
    <message>
        <source>{path} holds ContentV Studio parameters this version cannot read ({detail}).</source>
        <translation>{path} 中的 ContentV Studio 参数无法被此版本读取（{detail}）。</translation>
    </message>
    <message>
        <source>Made on {device} in {dtype}; here it runs on {here_device} in {here_dtype}, so the frames will not match the clip exactly.</source>
        <translation>原视频在 {device} 上以 {dtype} 生成；这里将在 {here_device} 上以 {here_dtype} 运行，所以画面不会与原视频完全一致。</translation>
    </message>
    <message>
        <source>{reason} Runs with {option} {fallback} instead.</source>
        <translation>{reason} 改用 {option} {fallback} 运行。</translation>
    </message>
    <message>
        <source>The {split} split cannot run on {gpus}, so the split is chosen automatically.</source>
        <translation>{split} 拆分无法在 {gpus} 个 GPU 上运行，因此自动选择拆分方式。</translation>
    </message>
    <message>
        <source>torch.compile is not available in the standalone app (it lacks triton and a C++ toolchain).</source>
        <translation>独立安装版中无法使用 torch.compile（缺少 triton 和 C++ 工具链）。</translation>
    </message>
    <message>
        <source>Run without --compile, or run ContentV Studio from source to use it.</source>
        <translation>请去掉 --compile 运行，或从源代码运行 ContentV Studio 以使用该功能。</translation>
    </message>
    <message>
        <source>{path} exists and is not a folder; choose another place for the demo model.</source>
        <translation>{path} 已存在且不是文件夹；请为演示模型另选位置。</translation>
    </message>
    <message>
        <source>{path} already exists and is not empty; choose an empty folder.</source>
        <translation>{path} 已存在且不是空的；请选择一个空文件夹。</translation>
    </message>
    <message>
        <source>A CUDA GPU was asked for, but PyTorch sees none on this machine.</source>
        <translation>选择了 CUDA GPU，但 PyTorch 在本机上找不到。</translation>
    </message>
    <message>
        <source>Check the NVIDIA driver, or choose --device cpu (slow).</source>
        <translation>请检查 NVIDIA 驱动，或改用 --device cpu（较慢）。</translation>
    </message>
    <message>
        <source>Apple&apos;s MPS device was asked for, but this machine has none.</source>
        <translation>选择了 Apple 的 MPS 设备，但本机没有。</translation>
    </message>
    <message>
        <source>Use --offload none on the CPU.</source>
        <translation>在 CPU 上请使用 --offload none。</translation>
    </message>
    <message>
        <source>Streamed block offload needs a CUDA GPU (it prefetches blocks on a side CUDA stream).</source>
        <translation>流式模块卸载需要 CUDA GPU（它在独立的 CUDA 流上预取模块）。</translation>
    </message>
    <message>
        <source>Choose model or sequential offload instead.</source>
        <translation>请改用模型卸载或顺序卸载。</translation>
    </message>
    <message>
        <source>Choose --dtype float16.</source>
        <translation>请选择 --dtype float16。</translation>
    </message>
    <message>
        <source>Needs a GPU; this machine has none.</source>
        <translation>需要 GPU；本机没有。</translation>
    </message>
    <message>
        <source>Needs a CUDA GPU (side-stream prefetch).</source>
        <translation>需要 CUDA GPU（独立流预取）。</translation>
    </message>
    <message>
        <source>The &apos;{mode}&apos; offload mode moves weights between system memory and a GPU, and this machine has no GPU.</source>
        <translation>“{mode}”卸载模式会在系统内存和 GPU 之间移动权重，而本机没有 GPU。</translation>
    </message>
    <message>
        <source>This GPU ({gpu}) does not support bfloat16.</source>
        <translation>此 GPU（{gpu}）不支持 bfloat16。</translation>
    </message>
    <message>
        <source>Downloading is switched off: HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set.</source>
        <translation>下载已关闭：设置了 HF_HUB_OFFLINE（或 TRANSFORMERS_OFFLINE）。</translation>
    </message>
    <message>
        <source>Unset it to download the model.</source>
        <translation>取消该设置即可下载模型。</translation>
    </message>
    <message>
        <source>Choose an empty or new folder.</source>
        <translation>请选择空文件夹或新文件夹。</translation>
    </message>
    <message>
        <source>Free some space or choose a folder on another disk.</source>
        <translation>请释放一些空间，或选择其他磁盘上的文件夹。</translation>
    </message>
    <message>
        <source>Check the connection and try again.</source>
        <translation>请检查网络连接后重试。</translation>
    </message>
    <message>
        <source>Run the download again; it resumes where it stopped.</source>
        <translation>再次运行下载；它会从中断处继续。</translation>
    </message>
    <message>
        <source>{repo} at {revision} lists no files.</source>
        <translation>{repo} 的 {revision} 版本中没有任何文件。</translation>
    </message>
    <message>
        <source>{path} is a file, not a folder.</source>
        <translation>{path} 是一个文件，不是文件夹。</translation>
    </message>
    <message>
        <source>{path} is not empty and holds no interrupted download; the model will not be mixed into it.</source>
        <translation>{path} 不是空文件夹，也没有未完成的下载；模型不会混入其中。</translation>
    </message>
    <message>
        <source>{path} is not writable.</source>
        <translation>{path} 不可写入。</translation>
    </message>
    <message>
        <source>Not enough disk space: the model needs {needed} GB more and {folder} has {free} GB free.</source>
        <translation>磁盘空间不足：模型还需要 {needed} GB，而 {folder} 只有 {free} GB 可用。</translation>
    </message>
    <message>
        <source>{repo} may not be a ContentV model in diffusers&apos; layout.</source>
        <translation>{repo} 可能不是 diffusers 格式的 ContentV 模型。</translation>
    </message>
    <message>
        <source>{repo} has no revision &apos;{revision}&apos;.</source>
        <translation>{repo} 没有版本“{revision}”。</translation>
    </message>
    <message>
        <source>There is no model &apos;{repo}&apos; on the hub (or it needs a login).</source>
        <translation>模型库中没有模型“{repo}”（或需要登录）。</translation>
    </message>
    <message>
        <source>The hub could not be reached: {error}</source>
        <translation>无法连接模型库：{error}</translation>
    </message>
    <message>
        <source>{file} arrived damaged (its hash does not match) and was removed.</source>
        <translation>{file} 下载后已损坏（哈希值不符），已删除。</translation>
    </message>
    <message>
        <source>Downloading {file} failed: {error}</source>
        <translation>下载 {file} 失败：{error}</translation>
    </message>
    <message>
        <source>Try, in this order: model CPU offload, VAE tiling, int8 or fp8 quantization, attention slicing, streamed or sequential offload; or a smaller size, fewer frames.</source>
        <translation>请依次尝试：模型 CPU 卸载、VAE 分块、int8 或 fp8 量化、注意力切片、流式或顺序卸载；或者减小尺寸、减少帧数。</translation>
    </message>
    <message>
        <source>the model&apos;s weights are probably damaged (download the transformer and VAE again)</source>
        <translation>模型权重可能已损坏（请重新下载 transformer 和 VAE）</translation>
    </message>
    <message>
        <source>The decoded frames hold NaN or infinity: {cause}. Nothing was written.</source>
        <translation>解码后的帧含有 NaN 或无穷大：{cause}。未写入任何内容。</translation>
    </message>
    <message>
        <source>The denoised latents hold NaN or infinity: {cause}. Nothing was written.</source>
        <translation>去噪后的潜变量含有 NaN 或无穷大：{cause}。未写入任何内容。</translation>
    </message>
    <message>
        <source>float16 overflowed (choose bfloat16 or float32), or the model&apos;s weights are damaged (download the transformer and VAE again)</source>
        <translation>float16 溢出（请选择 bfloat16 或 float32），或模型权重已损坏（请重新下载 transformer 和 VAE）</translation>
    </message>
    <message>
        <source>Start it over instead.</source>
        <translation>请改为从头开始。</translation>
    </message>
    <message>
        <source>The step cache&apos;s state was too large to keep, so it restarted at the resumed step; the clip differs slightly from an uninterrupted one.</source>
        <translation>步骤缓存的状态过大而未保存，因此在恢复的步骤处重新开始；该片段与未中断时的结果略有不同。</translation>
    </message>
    <message>
        <source>The interrupted job&apos;s latents do not fit this job.</source>
        <translation>中断任务的潜变量与此任务不匹配。</translation>
    </message>
    <message>
        <source>The interrupted job&apos;s step cache cannot be rebuilt.</source>
        <translation>无法重建中断任务的步骤缓存。</translation>
    </message>
    <message>
        <source>it ran on {device} in {dtype}</source>
        <translation>它是在 {device} 上以 {dtype} 运行的</translation>
    </message>
    <message>
        <source>Continued from step {step} of {steps}.</source>
        <translation>已从第 {step}/{steps} 步继续。</translation>
    </message>
    <message>
        <source>The interrupted job cannot be continued: {reason}.</source>
        <translation>中断的任务无法继续：{reason}。</translation>
    </message>
    <message>
        <source>The job&apos;s journal could not be written in {folder} ({cause}).</source>
        <translation>无法在 {folder} 中写入任务日志（{cause}）。</translation>
    </message>
    <message>
        <source>The GPU ran out of memory ({cause}).</source>
        <translation>GPU 显存不足（{cause}）。</translation>
    </message>
    <message>
        <source>The {format} holds {written} frames instead of {total}; it was not kept.</source>
        <translation>{format} 文件只有 {written} 帧，而不是 {total} 帧；未保留该文件。</translation>
    </message>
    <message>
        <source>This ffmpeg build has no WebM (VP9/VP8) encoder.</source>
        <translation>此 ffmpeg 版本没有 WebM（VP9/VP8）编码器。</translation>
    </message>
    <message>
        <source>Export a GIF or PNG frames.</source>
        <translation>请导出 GIF 或 PNG 帧。</translation>
    </message>
    <message>
        <source>Choose another name.</source>
        <translation>请选择其他名称。</translation>
    </message>
    <message>
        <source>The clip {path} does not exist.</source>
        <translation>视频 {path} 不存在。</translation>
    </message>
    <message>
        <source>A {format} export must end in .{extension} (got &apos;{name}&apos;).</source>
        <translation>{format} 导出文件必须以 .{extension} 结尾（当前为“{name}”）。</translation>
    </message>
    <message>
        <source>{path} already exists and is not an empty folder; it will not be overwritten.</source>
        <translation>{path} 已存在且不是空文件夹；不会覆盖它。</translation>
    </message>
    <message>
        <source>The folder {path} does not exist.</source>
        <translation>文件夹 {path} 不存在。</translation>
    </message>
    <message>
        <source>The folder {path} is not writable.</source>
        <translation>文件夹 {path} 不可写。</translation>
    </message>
    <message>
        <source>{path} has no video frames.</source>
        <translation>{path} 中没有视频帧。</translation>
    </message>
    <message>
        <source>{path} could not be read as a video: {error}</source>
        <translation>无法将 {path} 作为视频读取：{error}</translation>
    </message>
    <message>
        <source>{path} could not be written: {error}</source>
        <translation>无法写入 {path}：{error}</translation>
    </message>
    <message>
        <source>ffmpeg could not write {path}: {error}</source>
        <translation>ffmpeg 无法写入 {path}：{error}</translation>
    </message>
    <message>
        <source>Only {written} of {total} frames were written.</source>
        <translation>{total} 帧中只写入了 {written} 帧。</translation>
    </message>
    <message>
        <source>{path} already exists; it will not be overwritten.</source>
        <translation>{path} 已存在；不会覆盖它。</translation>
    </message>
    <message>
        <source>Give --model default to get it.</source>
        <translation>用 --model default 下载它。</translation>
    </message>
    <message>
        <source>Nothing to do: ask for an upscale, an interpolation or both.</source>
        <translation>没有要做的事：请指定放大、插帧或两者。</translation>
    </message>
    <message>
        <source>RIFE&apos;s weights are not downloaded, so ffmpeg&apos;s minterpolate interpolates (softer); --model default downloads RIFE ({name}).</source>
        <translation>尚未下载 RIFE 的权重，因此改用 ffmpeg 的 minterpolate 插帧（画面较软）；--model default 会下载 RIFE（{name}）。</translation>
    </message>
    <message>
        <source>Give either a factor or a frame rate to interpolate to, not both.</source>
        <translation>请给出插帧倍数或目标帧率，二者只能选一。</translation>
    </message>
    <message>
        <source>The scene-cut threshold must be above 0 and at most 100 percent.</source>
        <translation>场景切换阈值必须大于 0 且不超过 100%。</translation>
    </message>
    <message>
        <source>ffmpeg&apos;s interpolation takes no model; leave out --model.</source>
        <translation>ffmpeg 插帧不使用模型；请去掉 --model。</translation>
    </message>
    <message>
        <source>The model file {path} does not exist (or give &apos;default&apos;).</source>
        <translation>模型文件 {path} 不存在（或者指定“default”）。</translation>
    </message>
    <message>
        <source>The model {name} is not downloaded yet.</source>
        <translation>模型 {name} 尚未下载。</translation>
    </message>
    <message>
        <source>A tile must be at least 16 pixels (got {value}).</source>
        <translation>分块至少要 16 像素（收到的是 {value}）。</translation>
    </message>
    <message>
        <source>The frame rate must be above 0 and at most {limit} (got {value}).</source>
        <translation>帧率必须大于 0 且不超过 {limit}（收到的是 {value}）。</translation>
    </message>
    <message>
        <source>The clip is already {source} fps; interpolate to a higher frame rate (got {value}).</source>
        <translation>该视频已经是 {source} fps；请插帧到更高的帧率（收到的是 {value}）。</translation>
    </message>
    <message>
        <source>At most {limit} fps (got {value}).</source>
        <translation>最多 {limit} fps（收到的是 {value}）。</translation>
    </message>
    <message>
        <source>ffmpeg&apos;s minterpolate gave {got} of {count} frames ({detail}).</source>
        <translation>ffmpeg 的 minterpolate 只生成了 {count} 帧中的 {got} 帧（{detail}）。</translation>
    </message>
    <message>
        <source>The frame rate must be a positive number (got {value}).</source>
        <translation>帧率必须是正数（收到的是 {value}）。</translation>
    </message>
    <message>
        <source>Run it again; the download resumes where it stopped.</source>
        <translation>请再运行一次；下载会从中断处继续。</translation>
    </message>
    <message>
        <source>{name} is a model for another step, not for {kind}.</source>
        <translation>{name} 是用于其他步骤的模型，不能用于 {kind}。</translation>
    </message>
    <message>
        <source>{file} arrived damaged (SHA-256 {got}, expected {expected}) and was removed.</source>
        <translation>{file} 下载后已损坏（SHA-256 为 {got}，应为 {expected}），已删除。</translation>
    </message>
    <message>
        <source>The model file {path} does not exist.</source>
        <translation>模型文件 {path} 不存在。</translation>
    </message>
    <message>
        <source>{path} is not a weights file (.pth, .pt, .pkl or .safetensors).</source>
        <translation>{path} 不是权重文件（.pth、.pt、.pkl 或 .safetensors）。</translation>
    </message>
    <message>
        <source>{path} holds no network weights (no state dict of tensors).</source>
        <translation>{path} 不含网络权重（没有由张量组成的 state dict）。</translation>
    </message>
    <message>
        <source>{path} is not a RIFE interpolation network.</source>
        <translation>{path} 不是 RIFE 插帧网络。</translation>
    </message>
    <message>
        <source>{path} could not be read as network weights ({error}).</source>
        <translation>无法将 {path} 读取为网络权重（{error}）。</translation>
    </message>
    <message>
        <source>{path} does not fit the network it looks like ({detail}).</source>
        <translation>{path} 与其看起来所属的网络不匹配（{detail}）。</translation>
    </message>
    <message>
        <source>Unknown interpolation method &apos;{method}&apos; (rife or ffmpeg).</source>
        <translation>未知的插帧方法“{method}”（可选 rife 或 ffmpeg）。</translation>
    </message>
    <message>
        <source>There is no CUDA GPU here; use --device cpu.</source>
        <translation>本机没有 CUDA GPU；请使用 --device cpu。</translation>
    </message>
    <message>
        <source>The upscale factor must be above 1 and at most {limit} (got {value}).</source>
        <translation>放大倍数必须大于 1 且不超过 {limit}（收到的是 {value}）。</translation>
    </message>
    <message>
        <source>Close other programs using the GPU, or run on the CPU (--device cpu).</source>
        <translation>请关闭其他占用 GPU 的程序，或在 CPU 上运行（--device cpu）。</translation>
    </message>
    <message>
        <source>The GPU ran out of memory upscaling a {tile}-pixel tile.</source>
        <translation>放大 {tile} 像素的分块时 GPU 显存不足。</translation>
    </message>
    <message>
        <source>The history database {path} cannot be opened: {error}</source>
        <translation>无法打开历史数据库 {path}：{error}</translation>
    </message>
    <message>
        <source>an unnamed model</source>
        <translation>一个未命名的模型</translation>
    </message>
    <message>
        <source>{name} (hub id {hub_id}, revision {revision})</source>
        <translation>{name}（Hub ID {hub_id}，版本 {revision}）</translation>
    </message>
    <message>
        <source>{name} (hub id {hub_id})</source>
        <translation>{name}（Hub ID {hub_id}）</translation>
    </message>
    <message>
        <source>Choose one GPU.</source>
        <translation>请选择一个 GPU。</translation>
    </message>
    <message>
        <source>{split}: {gpus} GPUs cannot be shared evenly by the two guidance branches, so the tokens are split across all of them; each GPU sends about {traffic} per step over {link} (about {seconds}). Ulysses rather than ring: ring attention sends as much on 2 GPUs and more on more.</source>
        <translation>{split}：{gpus} 个 GPU 无法由两个引导分支平分，因此将 token 拆分到全部 GPU 上；每个 GPU 每步经 {link} 发送约 {traffic}（约 {seconds}）。选用 Ulysses 而非 ring：ring 注意力在 2 个 GPU 上发送的数据与之相同，GPU 更多时则更多。</translation>
    </message>
    <message>
        <source>{split}: the job runs one guidance branch, so its tokens are split across the {gpus} GPUs; each GPU sends about {traffic} per step over {link} (about {seconds}). Ulysses rather than ring: ring attention sends as much on 2 GPUs and more on more.</source>
        <translation>{split}：任务只运行一个引导分支，因此将其 token 拆分到 {gpus} 个 GPU 上；每个 GPU 每步经 {link} 发送约 {traffic}（约 {seconds}）。选用 Ulysses 而非 ring：ring 注意力在 2 个 GPU 上发送的数据与之相同，GPU 更多时则更多。</translation>
    </message>
    <message>
        <source>One GPU: the job is not split.</source>
        <translation>单个 GPU：任务不拆分。</translation>
    </message>
    <message>
        <source>A job split over several GPUs needs CUDA GPUs (or the CPU, one process each); MPS cannot be split.</source>
        <translation>将任务拆分到多个 GPU 上需要 CUDA GPU（或 CPU，每份一个进程）；MPS 无法拆分。</translation>
    </message>
    <message>
        <source>Keep everything on the GPU (offload none, with int8 or fp8 if it does not fit), or use one GPU.</source>
        <translation>请全部放在 GPU 上（卸载选 none，放不下时配合 int8 或 fp8），或只用一个 GPU。</translation>
    </message>
    <message>
        <source>{split}, as asked: each GPU sends about {traffic} per step over {link} (about {seconds}).</source>
        <translation>{split}（按指定）：每个 GPU 每步经 {link} 发送约 {traffic}（约 {seconds}）。</translation>
    </message>
    <message>
        <source>guidance: 2 GPUs and a guided job, so each GPU runs one of the two guidance branches; each sends only {traffic} per step over {link} (about {seconds}).</source>
        <translation>guidance：2 个 GPU 且任务带引导，因此每个 GPU 运行两个引导分支之一；每个 GPU 每步经 {link} 仅发送 {traffic}（约 {seconds}）。</translation>
    </message>
    <message>
        <source>{split}: {gpus} GPUs and a guided job, so each guidance branch runs on {sequence} GPUs with its tokens split between them, which exchanges less than splitting them over all {gpus}; each GPU sends about {traffic} per step over {link} (about {seconds}).</source>
        <translation>{split}：{gpus} 个 GPU 且任务带引导，因此每个引导分支在 {sequence} 个 GPU 上运行，其 token 在这些 GPU 间拆分，交换的数据比拆分到全部 {gpus} 个 GPU 更少；每个 GPU 每步经 {link} 发送约 {traffic}（约 {seconds}）。</translation>
    </message>
    <message>
        <source>Attention slicing is off under a sequence split: the split already divides the tokens.</source>
        <translation>序列拆分时关闭注意力切片：拆分本身已经划分了 token。</translation>
    </message>
    <message>
        <source>Compiling is off under a sequence split: the blocks then hold the split&apos;s exchanges between GPUs, which this version has not checked to compile.</source>
        <translation>序列拆分时关闭编译：此时模块内含 GPU 之间的数据交换，本版本尚未验证其能否编译。</translation>
    </message>
    <message>
        <source>Guidance batching does nothing under the guidance split: each GPU runs one branch.</source>
        <translation>引导拆分时引导批处理不起作用：每个 GPU 只运行一个分支。</translation>
    </message>
    <message>
        <source>Choose the ulysses or ring split, or a guidance above 1.</source>
        <translation>请选择 ulysses 或 ring 拆分，或将引导设为大于 1。</translation>
    </message>
    <message>
        <source>Choose 2, 4, 6 or 8 GPUs, or the ulysses split.</source>
        <translation>请选择 2、4、6 或 8 个 GPU，或使用 ulysses 拆分。</translation>
    </message>
    <message>
        <source>{gpus} GPUs were asked for, but this machine has {present}.</source>
        <translation>要求使用 {gpus} 个 GPU，但本机只有 {present} 个。</translation>
    </message>
    <message>
        <source>Choose at most {present}.</source>
        <translation>最多选择 {present} 个。</translation>
    </message>
    <message>
        <source>The &apos;{mode}&apos; offload mode cannot be combined with a split over several GPUs: every GPU would move the whole model through its own PCIe link each step, and the offload hooks move modules that the split expects in place.</source>
        <translation>“{mode}”卸载模式不能与多 GPU 拆分同时使用：每个 GPU 每一步都要经由各自的 PCIe 链路搬运整个模型，而且卸载钩子会移动拆分所要求留在原处的模块。</translation>
    </message>
    <message>
        <source>On the CPU the {gpus} processes share its cores: the split shows that the frames match, it does not make the job faster.</source>
        <translation>在 CPU 上，{gpus} 个进程共用其核心：拆分只用于验证帧一致，并不会让任务更快。</translation>
    </message>
    <message>
        <source>The guidance split runs the two guidance branches on different GPUs, but this job has one (guidance {value} runs no unconditional branch).</source>
        <translation>引导拆分会把两个引导分支放到不同的 GPU 上运行，但此任务只有一个分支（引导 {value} 不运行无条件分支）。</translation>
    </message>
    <message>
        <source>The guidance split needs an even number of GPUs, half for each branch (got {gpus}).</source>
        <translation>引导拆分需要偶数个 GPU，两个分支各占一半（当前为 {gpus}）。</translation>
    </message>
    <message>
        <source>Rank {rank} of the split job ended with exit code {code}; nothing was written.</source>
        <translation>拆分任务的第 {rank} 号进程已退出（退出码 {code}）；未写入任何文件。</translation>
    </message>
    <message>
        <source>Rank {rank} of the split job failed: {cause}</source>
        <translation>拆分任务的第 {rank} 号进程出错：{cause}</translation>
    </message>
    <message>
        <source>Rank {rank} of the split job was ended by {signal} (exit code {code}); nothing was written.</source>
        <translation>拆分任务的第 {rank} 号进程被 {signal} 终止（退出码 {code}）；未写入任何文件。</translation>
    </message>
    <message>
        <source>torchrun started {world} processes, but the job asks for {n} (--parallel).</source>
        <translation>torchrun 启动了 {world} 个进程，但任务要求 {n} 个（--parallel）。</translation>
    </message>
    <message>
        <source>the coordinator stopped</source>
        <translation>协调进程已停止</translation>
    </message>
    <message>
        <source>A finish job needs a finish (an upscale or an interpolation).</source>
        <translation>后期处理任务需要指定处理内容（放大或插帧）。</translation>
    </message>
    <message>
        <source>The number of GPUs must be between 1 and {most} (got {value}).</source>
        <translation>GPU 数量必须在 1 到 {most} 之间（收到 {value}）。</translation>
    </message>
    <message>
        <source>Unknown split &apos;{split}&apos;.</source>
        <translation>未知的拆分方式“{split}”。</translation>
    </message>
    <message>
        <source>The draft a final job finishes must be a history entry&apos;s number (got {value}).</source>
        <translation>定稿任务所对应的草稿必须是历史记录中的编号（当前为 {value}）。</translation>
    </message>
    <message>
        <source>{file} is truncated (tensor {tensor})</source>
        <translation>{file} 不完整（张量 {tensor}）</translation>
    </message>
    <message>
        <source>{folder} has no *.safetensors weights</source>
        <translation>{folder} 中没有 *.safetensors 权重</translation>
    </message>
    <message>
        <source>{folder}: the weights lack {names}</source>
        <translation>{folder}：权重中缺少 {names}</translation>
    </message>
    <message>
        <source>{file} is not a safetensors file</source>
        <translation>{file} 不是 safetensors 文件</translation>
    </message>
    <message>
        <source>{file}: tensor {tensor} has an unsupported dtype {dtype}</source>
        <translation>{file}：张量 {tensor} 的数据类型 {dtype} 不受支持</translation>
    </message>
    <message>
        <source>{folder}: {tensor} has shape {shape}, the model expects {expected}</source>
        <translation>{folder}：{tensor} 的形状为 {shape}，而模型需要 {expected}</translation>
    </message>
    <message>
        <source>The history database {path} was written by a newer ContentV Studio (schema {version}, this version reads up to {supported}).</source>
        <translation>历史数据库 {path} 由更新版本的 ContentV Studio 写入（架构 {version}，本版本最多读取到 {supported}）。</translation>
    </message>
    <message>
        <source>The clip was made with {model}, not found among the model folders this app knows.</source>
        <translation>该片段是用 {model} 生成的，在本应用已知的模型文件夹中没有找到。</translation>
    </message>
    <message>
        <source>Matched by its hub id and revision only: the folder&apos;s configuration differs from the clip&apos;s.</source>
        <translation>仅凭 Hub ID 和版本匹配：该文件夹的配置与片段记录的不同。</translation>
    </message>
    <message>
        <source>Matched by its hub id only: the folder&apos;s configuration differs from the clip&apos;s.</source>
        <translation>仅凭 Hub ID 匹配：该文件夹的配置与片段记录的不同。</translation>
    </message>
    <message>
        <source>Matched by the folder the clip recorded only: its configuration differs from the clip&apos;s.</source>
        <translation>仅凭片段记录的文件夹匹配：其配置与片段记录的不同。</translation>
    </message>
    <message>
        <source>Matched by its folder name only: the folder&apos;s configuration differs from the clip&apos;s.</source>
        <translation>仅凭文件夹名称匹配：该文件夹的配置与片段记录的不同。</translation>
    </message>
    <message>
        <source>Made with {model}, not found among the model folders this app knows.</source>
        <translation>生成时使用的模型是 {model}，在本应用已知的模型文件夹中没有找到。</translation>
    </message>
    <message>
        <source>Made with {model}, found at {folder}.</source>
        <translation>生成时使用的模型是 {model}，已在 {folder} 找到。</translation>
    </message>
    <message>
        <source>Made with {model}, found among the model folders this app knows.</source>
        <translation>生成时使用的模型是 {model}，已在本应用已知的模型文件夹中找到。</translation>
    </message>
    <message>
        <source>{path} is not an upscaling network this app runs (Real-ESRGAN&apos;s compact SRVGGNet, ESRGAN&apos;s RRDB net, SwinIR or HAT).</source>
        <translation>{path} 不是本应用能运行的放大网络（Real-ESRGAN 的紧凑型 SRVGGNet、ESRGAN 的 RRDB 网络、SwinIR 或 HAT）。</translation>
    </message>
    <message>
        <source>{path} is a {family} network for {channels}-channel images; video frames need 3 (RGB).</source>
        <translation>{path} 是用于 {channels} 通道图像的 {family} 网络；视频帧需要 3 通道（RGB）。</translation>
    </message>
    <message>
        <source>{path} is a HAT network without an upsampler; it does not upscale.</source>
        <translation>{path} 是不带上采样模块的 HAT 网络，无法放大。</translation>
    </message>
    <message>
        <source>The frame rate {value} is too fine: use up to three decimals or a fraction like 24000/1001.</source>
        <translation>帧率 {value} 过于精细：请最多使用三位小数，或使用 24000/1001 这样的分数。</translation>
    </message>
    <message>
        <source>The frame rate must be a number such as 24, 23.976 or 24000/1001 (got {value}).</source>
        <translation>帧率必须是数字，例如 24、23.976 或 24000/1001（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The history database {path} is in use by another program.</source>
        <translation>历史数据库 {path} 正被另一个程序使用。</translation>
    </message>
    <message>
        <source>it is not an SQLite database</source>
        <translation>它不是 SQLite 数据库</translation>
    </message>
    <message>
        <source>it cannot be read (permission denied)</source>
        <translation>无法读取它（权限被拒绝）</translation>
    </message>
    <message>
        <source>its integrity check failed ({detail})</source>
        <translation>它的完整性检查未通过（{detail}）</translation>
    </message>
    <message>
        <source>The history database {path} was empty; a new history was started.</source>
        <translation>历史数据库 {path} 是空的；已开始新的历史记录。</translation>
    </message>
    <message>
        <source>The history database could not be used ({problem}). It was kept as {name} and a new history was started; clips in the outputs folder are listed again.</source>
        <translation>历史数据库无法使用（{problem}）。已将其保留为 {name} 并开始新的历史记录；输出文件夹中的视频已重新列出。</translation>
    </message>
    <message>
        <source>The history database {path} is in use by another program (another window, a command-line job or a backup). Nothing was moved or lost: the history is read and written as soon as it is free.</source>
        <translation>历史数据库 {path} 正被另一个程序使用（另一个窗口、命令行任务或备份程序）。没有移动或丢失任何内容：一旦它空闲，就会读取和写入历史记录。</translation>
    </message>
    <message>
        <source>it cannot be read ({error})</source>
        <translation>无法读取它（{error}）</translation>
    </message>
    <message>
        <source>SQLite cannot open it ({error})</source>
        <translation>SQLite 无法打开它（{error}）</translation>
    </message>
    <message>
        <source>The history database could not be used ({problem}). It was kept as {name}.</source>
        <translation>历史数据库无法使用（{problem}）。已将其保留为 {name}。</translation>
    </message>
    <message>
        <source>Recovered from the outputs folder after the app stopped.</source>
        <translation>程序停止后，从输出文件夹中恢复。</translation>
    </message>
    <message>
        <source>it is damaged ({error})</source>
        <translation>它已损坏（{error}）</translation>
    </message>
    <message>
        <source>The history database {path} cannot be used ({problem}) and could not be moved aside; this session&apos;s history will not be saved.</source>
        <translation>历史数据库 {path} 无法使用（{problem}），也无法移到一旁；本次会话的历史记录将不会保存。</translation>
    </message>
    <message>
        <source>The history database {path} cannot be opened ({error}); it was left as it is, and this session&apos;s history will not be saved.</source>
        <translation>无法打开历史数据库 {path}（{error}）；它保持原样未被改动，本次会话的历史记录将不会保存。</translation>
    </message>
    <message>
        <source>the model folder has changed since (files replaced, added or removed)</source>
        <translation>此后模型文件夹已发生变化（文件被替换、添加或删除）</translation>
    </message>
    <message>
        <source>the job&apos;s settings differ from the interrupted job&apos;s</source>
        <translation>任务设置与中断的任务不同</translation>
    </message>
    <message>
        <source>it was written by another version of ContentV Studio ({version})</source>
        <translation>它由另一个版本的 ContentV Studio（{version}）写入</translation>
    </message>
    <message>
        <source>it was made with another model folder ({folder})</source>
        <translation>它是用另一个模型文件夹（{folder}）生成的</translation>
    </message>
    <message>
        <source>the step cache in use differs from the interrupted job&apos;s</source>
        <translation>当前使用的步骤缓存与中断的任务不同</translation>
    </message>
    <message>
        <source>the sampling schedule differs from the interrupted job&apos;s</source>
        <translation>采样调度与中断的任务不同</translation>
    </message>
    <message>
        <source>the snapshot {name} is damaged ({cause})</source>
        <translation>快照 {name} 已损坏（{cause}）</translation>
    </message>
    <message>
        <source>the journal in {folder} cannot be read ({cause})</source>
        <translation>无法读取 {folder} 中的任务日志（{cause}）</translation>
    </message>
    <message>
        <source>the job is running in another process (pid {pid})</source>
        <translation>该任务正在另一个进程中运行（pid {pid}）</translation>
    </message>
    <message>
        <source>{file}: {field} must be a whole number from 1 to {limit} (got {value})</source>
        <translation>{file}：{field} 必须是 1 到 {limit} 之间的整数（实际为 {value}）</translation>
    </message>
    <message>
        <source>{file}: {field} is {value}, but the weights say {actual}</source>
        <translation>{file}：{field} 为 {value}，但权重表明应为 {actual}</translation>
    </message>
    <message>
        <source>{file}: {field} ({value}) does not divide {other} ({total})</source>
        <translation>{file}：{field}（{value}）不能整除 {other}（{total}）</translation>
    </message>
    <message>
        <source>{file}: {field} must be a list of 1 to {count} whole numbers from 1 to {limit} (got {value})</source>
        <translation>{file}：{field} 必须是由 1 到 {count} 个取值在 1 到 {limit} 之间的整数组成的列表（实际为 {value}）</translation>
    </message>
    <message>
        <source>{file}: {field} must list {count} true/false values, one per level but the last (got {value})</source>
        <translation>{file}：{field} 必须列出 {count} 个 true/false 值，除最后一级外每级一个（实际为 {value}）</translation>
    </message>
    <message>
        <source>{count} encoder blocks</source>
        <translation>{count} 个编码器块</translation>
    </message>
    <message>
        <source>{file} describes a model that cannot be built ({reason})</source>
        <translation>{file} 描述的模型无法构建（{reason}）</translation>
    </message>
    <message>
        <source>{file}: the weights lack {tensor}, which the config&apos;s model has</source>
        <translation>{file}：权重中缺少配置所描述模型中的 {tensor}</translation>
    </message>
    <message>
        <source>{file}: {tensor} is {actual} in the weights, but the config makes it {expected}</source>
        <translation>{file}：{tensor} 在权重中为 {actual}，但按配置应为 {expected}</translation>
    </message>
    <message>
        <source>Choose one of: {choices}.</source>
        <translation>请从以下选项中选择：{choices}。</translation>
    </message>
    <message>
        <source>The {name} must be text (got {kind}).</source>
        <translation>{name}必须是文本（实际为 {kind}）。</translation>
    </message>
    <message>
        <source>prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>negative prompt</source>
        <translation>反向提示词</translation>
    </message>
    <message>
        <source>The prompt is empty: describe the video you want.</source>
        <translation>提示词为空：请描述你想要的视频。</translation>
    </message>
    <message>
        <source>width</source>
        <translation>宽度</translation>
    </message>
    <message>
        <source>height</source>
        <translation>高度</translation>
    </message>
    <message>
        <source>The T5 sequence length must be between 1 and 512 tokens.</source>
        <translation>T5 序列长度必须在 1 到 512 个词元之间。</translation>
    </message>
    <message>
        <source>{frames} frames is not of the form 4k+1 that the video VAE needs; generating {snapped} frames instead, as the official pipeline does.</source>
        <translation>{frames} 帧不符合视频 VAE 所需的 4k+1 形式；将按官方流程改为生成 {snapped} 帧。</translation>
    </message>
    <message>
        <source>The {name} is not valid text: character {position} is a byte that is not UTF-8 (U+{code}); retype it or save it as UTF-8.</source>
        <translation>{name}不是有效文本：第 {position} 个字符是一个非 UTF-8 字节（U+{code}）；请重新输入，或以 UTF-8 编码保存。</translation>
    </message>
    <message>
        <source>The {name} holds a control character (U+{code} at character {position}); remove it.</source>
        <translation>{name}含有控制字符（第 {position} 个字符，U+{code}）；请将其删除。</translation>
    </message>
    <message>
        <source>Unknown attention kernel &apos;{kernel}&apos;; choose one of: {choices}.</source>
        <translation>未知的注意力内核“{kernel}”；请从以下选项中选择：{choices}。</translation>
    </message>
    <message>
        <source>Unknown step cache level &apos;{level}&apos;.</source>
        <translation>未知的步骤缓存级别“{level}”。</translation>
    </message>
    <message>
        <source>Unknown guidance batching &apos;{mode}&apos;.</source>
        <translation>未知的引导批处理方式“{mode}”。</translation>
    </message>
    <message>
        <source>Unknown device &apos;{device}&apos;.</source>
        <translation>未知的设备“{device}”。</translation>
    </message>
    <message>
        <source>Unknown dtype &apos;{dtype}&apos;.</source>
        <translation>未知的数据类型“{dtype}”。</translation>
    </message>
    <message>
        <source>Unknown offload mode &apos;{mode}&apos;.</source>
        <translation>未知的卸载模式“{mode}”。</translation>
    </message>
    <message>
        <source>Unknown quantization &apos;{kind}&apos;.</source>
        <translation>未知的量化方式“{kind}”。</translation>
    </message>
    <message>
        <source>The number of frames must be at least 1 (got {value}).</source>
        <translation>帧数至少为 1（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The frame rate must be between 1 and 240 fps (got {value}).</source>
        <translation>帧率必须在 1 到 240 fps 之间（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The number of steps must be at least 1 (got {value}).</source>
        <translation>步数至少为 1（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The guidance scale must be a finite number (got {value}).</source>
        <translation>引导强度必须是有限的数（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The seed must be a whole number from 0 to {limit} (got {value}).</source>
        <translation>种子必须是 0 到 {limit} 之间的整数（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The {name} must be a positive whole number of pixels (got {value}).</source>
        <translation>{name}必须是正整数像素（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The number of frames is at most {limit} (got {value}).</source>
        <translation>帧数最多为 {limit}（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The number of steps is at most 1000 (got {value}).</source>
        <translation>步数最多为 1000（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The guidance scale cannot be negative (got {value}).</source>
        <translation>引导强度不能为负数（当前为 {value}）。</translation>
    </message>
    <message>
        <source>The {name} must be a multiple of {multiple} (got {value}; try {snapped}).</source>
        <translation>{name}必须是 {multiple} 的倍数（当前为 {value}；可试 {snapped}）。</translation>
    </message>
    <message>
        <source>The {name} is at most {limit} pixels (got {value}).</source>
        <translation>{name}最多为 {limit} 像素（当前为 {value}）。</translation>
    </message>
    <message>
        <source>Step cache &apos;{level}&apos; used {method}: this model has no MagCache calibration yet (the next job with the step cache off records one).</source>
        <translation>步骤缓存“{level}”使用了 {method}：此模型还没有 MagCache 校准（下一个关闭步骤缓存的任务会记录一份）。</translation>
    </message>
    <message>
        <source>Recorded this model&apos;s MagCache calibration ({path}).</source>
        <translation>已记录此模型的 MagCache 校准（{path}）。</translation>
    </message>
    <message>
        <source>Choose a shorter folder or name.</source>
        <translation>请选择更短的文件夹或名称。</translation>
    </message>
    <message>
        <source>Choose another file name.</source>
        <translation>请换一个文件名。</translation>
    </message>
    <message>
        <source>Free some space.</source>
        <translation>请释放一些空间。</translation>
    </message>
    <message>
        <source>Choose a shorter name.</source>
        <translation>请选择更短的名称。</translation>
    </message>
    <message>
        <source>the clip</source>
        <translation>视频</translation>
    </message>
    <message>
        <source>the clip&apos;s sidecar</source>
        <translation>视频的参数文件</translation>
    </message>
    <message>
        <source>{what} could not be written ({error}); nothing was saved.</source>
        <translation>{what}无法写入（{error}）；未保存任何内容。</translation>
    </message>
    <message>
        <source>The path {path} holds a NUL character; choose another name.</source>
        <translation>路径 {path} 含有 NUL 字符；请换一个名称。</translation>
    </message>
    <message>
        <source>The path {path} is too long for this file system ({length} bytes, at most {limit}).</source>
        <translation>路径 {path} 对此文件系统而言过长（{length} 字节，最多 {limit}）。</translation>
    </message>
    <message>
        <source>{name} is a name this app gives its temporary files; choose another name.</source>
        <translation>{name} 是本应用临时文件使用的名称；请换一个名称。</translation>
    </message>
    <message>
        <source>The output must be an .mp4 file (got &apos;{name}&apos;).</source>
        <translation>输出必须是 .mp4 文件（当前为“{name}”）。</translation>
    </message>
    <message>
        <source>{sidecar} already exists; the clip&apos;s sidecar would replace it.</source>
        <translation>{sidecar} 已存在；视频的参数文件会覆盖它。</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>文件夹 {folder} 不存在。</translation>
    </message>
    <message>
        <source>The folder {folder} is not writable.</source>
        <translation>文件夹 {folder} 不可写入。</translation>
    </message>
    <message>
        <source>{path} already exists and is not an empty folder; frames will not overwrite it.</source>
        <translation>{path} 已存在且不是空文件夹；帧图像不会覆盖它。</translation>
    </message>
    <message>
        <source>Cannot create the frames folder {path}: {folder} is missing or not writable.</source>
        <translation>无法创建帧文件夹 {path}：{folder} 不存在或不可写入。</translation>
    </message>
    <message>
        <source>The frames folder {path} would hold the clip {video}; choose another folder.</source>
        <translation>帧文件夹 {path} 会包含视频 {video}；请选择其他文件夹。</translation>
    </message>
    <message>
        <source>The disk is full: {what} could not be written; nothing was saved.</source>
        <translation>磁盘已满：{what}无法写入；未保存任何内容。</translation>
    </message>
    <message>
        <source>exit status {code}</source>
        <translation>退出状态 {code}</translation>
    </message>
    <message>
        <source>The video encoder failed ({error}); nothing was saved.</source>
        <translation>视频编码器失败（{error}）；未保存任何内容。</translation>
    </message>
    <message>
        <source>{count} frames decoded</source>
        <translation>解码了 {count} 帧</translation>
    </message>
    <message>
        <source>The finished clip did not check out ({detail}; expected {frames} frames); nothing was saved.</source>
        <translation>生成的视频未通过校验（{detail}；应为 {frames} 帧）；未保存任何内容。</translation>
    </message>
    <message>
        <source>The name {name} is too long for this file system ({length} bytes, at most {limit}).</source>
        <translation>名称 {name} 对此文件系统而言过长（{length} 字节，最多 {limit}）。</translation>
    </message>
    <message>
        <source>The name {name} is too long for this file system: the job also writes {derived} beside it ({length} bytes, at most {limit}).</source>
        <translation>名称 {name} 对此文件系统而言过长：任务还会在旁边写入 {derived}（{length} 字节，最多 {limit}）。</translation>
    </message>
    <message>
        <source>The frames folder {path} has the same name as {what}; choose another folder name.</source>
        <translation>帧文件夹 {path} 与{what}同名；请换一个文件夹名称。</translation>
    </message>
    <message>
        <source>Another job is already writing {path}; it will not be overwritten.</source>
        <translation>另一个任务正在写入 {path}；不会覆盖它。</translation>
    </message>
    <message>
        <source>The reservation for {path}</source>
        <translation>{path} 的占用标记</translation>
    </message>
    <message>
        <source>The disk is full: the clip {name} could not be written; nothing was saved.</source>
        <translation>磁盘已满：无法写入视频 {name}；未保存任何内容。</translation>
    </message>
    <message>
        <source>{path} appeared while it was being written; it was not overwritten.</source>
        <translation>写入期间出现了 {path}；未覆盖它。</translation>
    </message>
    <message>
        <source>The sidecar {path}</source>
        <translation>参数文件 {path} </translation>
    </message>
    <message>
        <source>The clip {path}</source>
        <translation>视频 {path} </translation>
    </message>
    <message>
        <source>{path} appeared while the clip was being written; it was not overwritten and the clip was not saved.</source>
        <translation>写入视频期间出现了 {path}；未覆盖它，视频也未保存。</translation>
    </message>
    <message>
        <source>{path} already exists; it was not overwritten.</source>
        <translation>{path} 已存在；未覆盖它。</translation>
    </message>
</context>
<context>
    <name>format_bytes</name>
    <message>
        <source>{count} bytes</source>
        <translation>{count} 字节</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>{app} cannot start.</source>
        <translation>{app} 无法启动。</translation>
    </message>
</context>
<context>
    <name>memory_advice</name>
    <message>
        <source>all on GPU</source>
        <translation>全部放在 GPU 上</translation>
    </message>
    <message>
        <source>model CPU offload</source>
        <translation>模型 CPU 卸载</translation>
    </message>
    <message>
        <source>sequential CPU offload</source>
        <translation>顺序 CPU 卸载</translation>
    </message>
    <message>
        <source>streamed offload</source>
        <translation>流式卸载</translation>
    </message>
    <message>
        <source>VAE tiling</source>
        <translation>VAE 分块</translation>
    </message>
    <message>
        <source>VAE slicing</source>
        <translation>VAE 切片</translation>
    </message>
    <message>
        <source>{quantization} weights</source>
        <translation>{quantization} 权重</translation>
    </message>
    <message>
        <source>attention slicing</source>
        <translation>注意力切片</translation>
    </message>
    <message>
        <source>text encoders off the GPU after encoding</source>
        <translation>编码后将文本编码器移出 GPU</translation>
    </message>
</context>
<context>
    <name>readiness</name>
    <message>
        <source>Choose a model folder first (File ▸ Choose model folder…).</source>
        <translation>请先选择模型文件夹（文件 ▸ 选择模型文件夹…）。</translation>
    </message>
    <message>
        <source>Checking the model folder…</source>
        <translation>正在检查模型文件夹…</translation>
    </message>
    <message>
        <source>The model folder cannot be used: {problems}</source>
        <translation>无法使用此模型文件夹：{problems}</translation>
    </message>
    <message>
        <source>see the note under it</source>
        <translation>见其下方的说明</translation>
    </message>
</context>
</TS>
