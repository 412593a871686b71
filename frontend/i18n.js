// pyxa portal — user-interface strings (English and Simplified Chinese).
//
// Static markup carries `data-i18n="key"` (text), `data-i18n-placeholder`,
// `data-i18n-aria-label` and `data-i18n-title`; `applyI18n(root)` fills them in.
// Labels coming from the knowledge base carry `data-label-en` / `data-label-zh`
// and are switched to the Chinese name where one exists.

const STORAGE_KEY = 'pyxa.lang';

export const STRINGS = {
  en: {
    'app.title': 'pyxa — ask about your photos',
    'app.tagline': 'Answers grounded in your own photos and documents',
    'skip': 'Skip to content',
    'nav.main': 'Main',
    'nav.ask': 'Ask',
    'nav.kb': 'Knowledge base',
    'nav.docs': 'API docs',
    'lang.switch': '中文',
    'lang.switch.label': 'Switch language to Chinese',
    'theme.label.system': 'Theme: follows system. Switch to light',
    'theme.label.light': 'Theme: light. Switch to dark',
    'theme.label.dark': 'Theme: dark. Follow system',
    'health.checking': 'Connecting…',
    'health.ok': 'Ready',
    'health.degraded': 'Degraded',
    'health.down': 'Offline',
    'health.label': 'Service status',
    'health.version': 'Version',
    'health.models': 'Models',
    'health.generator': 'Generator',
    'health.stores': 'Stores',
    'health.refresh': 'Check again',

    'history.title': 'Conversations',
    'history.new': 'New conversation',
    'history.empty': 'No conversations yet. Ask about a photo to start one.',
    'history.turns': { one: '{n} question', other: '{n} questions' },
    'history.toggle': 'History',
    'history.untitled': 'Untitled conversation',
    'history.loadError': 'Could not load conversations',
    'history.retry': 'Retry',

    'ask.heroTitle': 'What’s in your photo?',
    'ask.heroText': 'Drop a photo anywhere on this page, paste it, choose a file or take one with your camera. pyxa compares it with your labelled photos and explains its answer. Or just type a question: pyxa answers from the documents in your knowledge base and cites them.',
    'ask.hero.step1': 'Add a photo',
    'ask.hero.step2': 'Ask a question',
    'ask.hero.step3': 'Correct it if it’s wrong — pyxa learns',
    'ask.dropHere': 'Drop a photo here, paste it, or',
    'ask.choose': 'Choose photo',
    'ask.camera': 'Take photo',
    'ask.remove': 'Remove photo',
    'ask.previewFailed': 'No preview for this file',
    'ask.question': 'Question',
    'ask.defaultPrompt': 'What is this?',
    'ask.followupPlaceholder': 'Ask a follow-up about the same photo…',
    'ask.followupPlaceholderText': 'Ask a follow-up…',
    'ask.promptPlaceholder': 'Ask about the photo, or about your documents…',
    'ask.collection': 'Knowledge base',
    'ask.options': 'Options',
    'ask.mode': 'Mode',
    'ask.mode.chat': 'Chat — the model’s knowledge plus the knowledge base',
    'ask.mode.query': 'Query — only the knowledge base',
    'ask.topk': 'Evidence to cite',
    'ask.lang': 'Answer language',
    'ask.lang.auto': 'Same as the question',
    'ask.lang.en': 'English',
    'ask.lang.zh': 'Chinese (中文)',
    'ask.submit': 'Ask',
    'ask.stop': 'Stop',
    'ask.hint': 'Enter to send · Shift+Enter for a new line',
    'ask.followupHint': 'Follow-ups reuse the photo of this conversation. Attach a new one to switch.',
    'ask.needInput': 'Add a photo or type a question first.',
    'ask.dropOverlay': 'Drop the photo to ask about it',
    'ask.notImage': 'That doesn’t look like a photo. Drop an image file.',
    'ask.pasted': 'Photo pasted',
    'ask.documentHint': 'That is a document, not a photo. Add it on the Knowledge base page, then type your question here.',
    'ask.emptyKb': 'The “{name}” knowledge base has no photos or documents yet, so pyxa has nothing to go on.',
    'ask.emptyKbLink': 'Add photos or documents',

    'turn.you': 'You',
    'turn.pyxa': 'pyxa',
    'turn.thinking': 'Looking at the photo…',
    'turn.searching': 'Searching the knowledge base…',
    'turn.writing': 'Writing…',
    'turn.stopped': 'Stopped.',
    'turn.confident': 'Confident',
    'turn.unsure': 'Not sure',
    'turn.candidates': 'Candidates',
    'turn.noCandidates': 'No candidates — the knowledge base may be empty.',
    'turn.evidence': 'Evidence',
    'turn.noEvidence': 'Nothing matching in the knowledge base.',
    'turn.noEvidenceNote': 'Nothing in the knowledge base answers this.',
    'turn.passage': 'passage {n}',
    'turn.sourceDoc': 'Source {n}: “{title}”, passage {pos}, score {score}',
    'turn.sourceText': 'Source {n}: note, score {score}',
    'turn.note': 'Note',
    'turn.timings': 'Timings',
    'turn.total': 'Total',
    'turn.models': 'Models',
    'turn.details': 'Technical details',
    'turn.source': 'Source {n}: {label}, score {score}',
    'turn.score': 'score {score}',
    'turn.failed': 'Something went wrong',
    'turn.retry': 'Try again',
    'turn.photoAlt': 'Your photo',
    'turn.evidenceAlt': 'Evidence photo {n}: {label}',

    'timing.decode': 'Decode',
    'timing.encode': 'Encode',
    'timing.retrieve': 'Retrieve',
    'timing.candidates': 'Rank',
    'timing.generate': 'Generate',
    'timing.translate': 'Translate',

    'fb.question': 'Is this right?',
    'fb.yes': 'Yes, correct',
    'fb.no': 'No, that’s wrong',
    'fb.itIs': 'That’s wrong, it is a',
    'fb.placeholder': 'type the right name',
    'fb.send': 'Teach pyxa',
    'fb.cancel': 'Cancel',
    'fb.quick': 'Quick choices',
    'fb.sending': 'Sending…',
    'fb.learned': 'Learned! pyxa will now recognise this photo as “{label}”.',
    'fb.learnedItem': 'Saved to the knowledge base.',
    'fb.recorded': 'Thanks — your feedback was recorded.',
    'fb.thanks': 'Thanks for confirming!',
    'fb.askAgain': 'Ask again',
    'fb.emptyLabel': 'Type or pick the right name first.',

    'kb.collections': 'Collections',
    'kb.items': { one: '{n} item', other: '{n} items' },
    'kb.new': 'New collection',
    'kb.name': 'Name',
    'kb.nameHint': 'Lower-case letters, digits, - and _ (up to 64).',
    'kb.description': 'Description',
    'kb.create': 'Create',
    'kb.created': 'Collection “{name}” created',
    'kb.deleteCollection': 'Delete collection',
    'kb.settings.title': 'Workspace settings',
    'kb.settings.sub': 'How questions about this collection are answered',
    'kb.settings.mode': 'Default mode',
    'kb.settings.mode.chat': 'Chat',
    'kb.settings.mode.chatHelp': 'The model’s own knowledge plus this collection.',
    'kb.settings.mode.query': 'Query',
    'kb.settings.mode.queryHelp': 'Answers only from this collection.',
    'kb.settings.modeHelp': 'Used when a question does not choose a mode. Default: chat.',
    'kb.settings.systemPrompt': 'System prompt (optional)',
    'kb.settings.systemPromptPlaceholder': 'pyxa’s built-in instructions',
    'kb.settings.systemPromptHelp': 'Replaces the built-in instructions for answers from this collection (up to 4000 characters). Leave empty for the default.',
    'kb.settings.temperature': 'Temperature',
    'kb.settings.temperatureHelp': '0–2. Higher gives more varied wording. Default: 0.',
    'kb.settings.topK': 'Evidence items',
    'kb.settings.topKHelp': '1–100 photos, passages or notes retrieved per question. Default: 5.',
    'kb.settings.minSimilarity': 'Similarity threshold',
    'kb.settings.minSimilarityHelp': '0–1. Retrieved text less similar to the question than this is not used. Default: 0.25.',
    'kb.settings.save': 'Save',
    'kb.settings.saved': 'Settings saved.',
    'kb.settings.unchanged': 'Nothing to save: no changes.',
    'kb.settings.badNumber': 'Enter a number, or leave the field empty for the default.',
    'kb.deleteCollectionConfirm': 'Delete the collection “{name}” and all of its {count} items (photos and document passages)? This cannot be undone.',
    'kb.collectionDeleted': 'Collection “{name}” deleted',
    'kb.defaultLocked': 'The default collection cannot be deleted.',
    'kb.noDescription': 'No description',
    'kb.add': 'Add labelled photos',
    'kb.addHint': 'Drop many photos at once. Give each a label — the name pyxa should answer with.',
    'kb.dropHere': 'Drop photos here (documents too) or',
    'kb.choose': 'Choose photos',
    'kb.labelAll': 'Label for all',
    'kb.apply': 'Apply to all',
    'kb.label': 'Label',
    'kb.caption': 'Caption (optional)',
    'kb.upload': { one: 'Upload {n} photo', other: 'Upload {n} photos' },
    'kb.clear': 'Clear list',
    'kb.removeFile': 'Remove {name} from the list',
    'kb.progress': '{done} of {total} uploaded',
    'kb.progressDone': 'Done: {ok} added, {failed} failed',
    'kb.status.queued': 'Ready',
    'kb.status.uploading': 'Uploading…',
    'kb.status.done': 'Added',
    'kb.status.duplicate': 'Already in this collection',
    'kb.status.error': 'Failed',
    'kb.browse': 'Photos and passages',
    'kb.empty': 'This collection is empty. Add labelled photos or documents above.',
    'kb.loadMore': 'Load more',
    'kb.showing': 'Showing {shown} of {total}',
    'kb.deleteItem': 'Delete “{label}”',
    'kb.deleteItemConfirm': 'Delete this photo (“{label}”) from the knowledge base?',
    'kb.itemDeleted': 'Photo deleted',
    'kb.unlabelled': '(no label)',
    'kb.search': 'Search',
    'kb.searchPlaceholder': 'Search by words, e.g. “cat”',
    'kb.searchPhoto': 'Search by photo',
    'kb.searchGo': 'Search',
    'kb.searchClear': 'Show everything',
    'kb.searchResults': { one: '{n} match', other: '{n} matches' },
    'kb.searchNone': 'No matches.',
    'kb.searchingPhoto': 'Photos similar to {name}',
    'kb.searchingText': 'Matches for “{q}”',
    'kb.pickCollection': 'Choose a collection on the left.',
    'kb.added': 'Added {date}',
    'kb.close': 'Close',
    'kb.unsupported': '{name}: pyxa takes photos and .txt, .md, .html or .pdf documents.',
    'kb.kind.image': 'photo',
    'kb.kind.text': 'note',
    'kb.kind.image_text': 'photo + text',
    'kb.kind.passage': 'passage',
    'kb.readText': 'Read “{title}”',

    'kb.doc.title': 'Documents',
    'kb.doc.hint': 'Text, Markdown, HTML or PDF files, up to 20 MB each. pyxa splits each one into passages that answers can quote and cite.',
    'kb.doc.dropHere': 'Drop documents here or',
    'kb.doc.choose': 'Choose documents',
    'kb.doc.uploads': 'Document uploads',
    'kb.doc.clearFinished': 'Clear finished',
    'kb.doc.empty': 'No documents in this collection yet.',
    'kb.doc.count': { one: '{n} document', other: '{n} documents' },
    'kb.doc.passages': { one: '{n} passage', other: '{n} passages' },
    'kb.doc.passageN': 'Passage {n}',
    'kb.doc.open': 'Read passage {n} of “{title}”',
    'kb.doc.status.queued': 'Waiting…',
    'kb.doc.status.uploading': 'Uploading…',
    'kb.doc.status.processing': 'Processing: splitting into passages and indexing…',
    'kb.doc.status.done': { one: 'Done: {n} passage', other: 'Done: {n} passages' },
    'kb.doc.status.duplicate': 'Already in this collection',
    'kb.doc.status.error': 'Failed',
    'kb.doc.status.cancelled': 'Cancelled',
    'kb.doc.progressLabel': 'Upload of {name}',
    'kb.doc.cancel': 'Cancel the upload of {name}',
    'kb.doc.dismiss': 'Remove {name} from the list',
    'kb.doc.otherCollection': 'to {name}',
    'kb.doc.summary': '{done} of {total} documents finished',
    'kb.doc.summaryDone': 'Finished: {ok} added, {dup} already there, {failed} failed',
    'kb.doc.tooLarge': '{name} is larger than 20 MB, the most pyxa takes.',
    'kb.doc.delete': 'Delete the document “{title}”',
    'kb.doc.deleteConfirm': { one: 'Delete the document “{title}” and its passage from the knowledge base?', other: 'Delete the document “{title}” and its {n} passages from the knowledge base?' },
    'kb.doc.deleted': 'Document deleted',

    'confirm.title': 'Are you sure?',
    'confirm.ok': 'Delete',
    'confirm.cancel': 'Cancel',

    'error.network': 'Cannot reach the pyxa server. Check that it is running and try again.',
    'auth.needed': 'This pyxa server needs an API key. Paste your key (pyxa_…):',
    'auth.invalid': 'That API key is not valid (unknown or revoked). Paste another key:',
    'error.http': 'The server answered {status}.',
    'error.streamEnded': 'The answer stream ended unexpectedly.',
    'error.title': 'Error',

    'docs.pageTitle': 'pyxa — API reference',
    'docs.tagline': 'API reference',
    'docs.backToPortal': 'pyxa — back to the portal',
    'docs.operations': 'Operations',
    'docs.filter': 'Filter operations',
    'docs.filterPlaceholder': 'Filter operations…  (press /)',
    'docs.countAll': { one: '{n} operation', other: '{n} operations' },
    'docs.countShown': '{n} of {total} operations',
    'docs.noMatch': 'No operation matches the filter.',
    'docs.loading': 'Loading the API description…',
    'docs.loadError': 'Could not load the API description: {message}',
    'docs.notOpenApi': 'the response is not an OpenAPI document',
    'docs.renderError': 'Could not show this operation:',
    'docs.download': 'openapi.json',
    'docs.baseUrl': 'Base URL',
    'docs.expandAll': 'Expand all',
    'docs.collapseAll': 'Collapse all',
    'docs.untagged': 'Endpoints',
    'docs.operationId': 'Operation ID',
    'docs.deprecatedOp': 'This operation is deprecated.',
    'docs.parameters': 'Parameters',
    'docs.requestBody': 'Request body',
    'docs.responses': 'Responses',
    'docs.curl': 'Example request',
    'docs.copy': 'Copy',
    'docs.copied': 'Copied',
    'docs.selected': 'Selected',
    'docs.copyFailed': 'Copying is not allowed here; the command is selected, press Ctrl+C to copy it.',
    'docs.col.name': 'Name',
    'docs.col.in': 'In',
    'docs.col.type': 'Type',
    'docs.col.description': 'Description',
    'docs.header': 'Header',
    'docs.contentType': 'Content type',
    'docs.noSchema': 'Any content.',
    'docs.noBody': 'No body.',
    'docs.required': 'required',
    'docs.deprecated': 'deprecated',
    'docs.readOnly': 'read-only',
    'docs.writeOnly': 'write-only',
    'docs.allowed': 'Allowed values:',
    'docs.const': 'Always:',
    'docs.default': 'Default:',
    'docs.exampleValue': 'Example:',
    'docs.limits': 'Limits:',
    'docs.pattern': 'Pattern:',
    'docs.mediaType': 'Media type:',
    'docs.discriminator': 'Chosen by:',
    'docs.additional': 'Other keys:',
    'docs.oneOf': 'Exactly one of:',
    'docs.anyOf': 'Any of:',
    'docs.variant': 'Option {n}',
    'docs.itemsOf': 'Each item:',
    'docs.valuesOf': 'Each value:',
    'docs.propCount': { one: ' · {n} field', other: ' · {n} fields' },
    'docs.recursive': 'Same structure as {name} above (recursive).',

    'time.justNow': 'just now',
  },

  zh: {
    'app.title': 'pyxa — 问问你的照片',
    'app.tagline': '以你自己的照片和文档为依据来回答',
    'skip': '跳到主要内容',
    'nav.main': '主导航',
    'nav.ask': '提问',
    'nav.kb': '知识库',
    'nav.docs': 'API 文档',
    'lang.switch': 'EN',
    'lang.switch.label': '切换为英文界面',
    'theme.label.system': '主题：跟随系统。切换为浅色',
    'theme.label.light': '主题：浅色。切换为深色',
    'theme.label.dark': '主题：深色。改为跟随系统',
    'health.checking': '连接中…',
    'health.ok': '就绪',
    'health.degraded': '部分可用',
    'health.down': '离线',
    'health.label': '服务状态',
    'health.version': '版本',
    'health.models': '模型',
    'health.generator': '生成器',
    'health.stores': '存储',
    'health.refresh': '重新检查',

    'history.title': '对话',
    'history.new': '新对话',
    'history.empty': '还没有对话。先就一张照片提个问题吧。',
    'history.turns': { other: '{n} 个问题' },
    'history.toggle': '历史',
    'history.untitled': '未命名对话',
    'history.loadError': '无法加载对话列表',
    'history.retry': '重试',

    'ask.heroTitle': '照片里是什么？',
    'ask.heroText': '把照片拖到页面任意位置、直接粘贴、选择文件或用相机拍一张。pyxa 会把它与你标注过的照片进行比对，并说明理由。也可以直接输入问题：pyxa 会根据知识库中的文档作答，并注明出处。',
    'ask.hero.step1': '添加照片',
    'ask.hero.step2': '提出问题',
    'ask.hero.step3': '答错了就纠正 —— pyxa 会记住',
    'ask.dropHere': '把照片拖到这里、粘贴，或',
    'ask.choose': '选择照片',
    'ask.camera': '拍照',
    'ask.remove': '移除照片',
    'ask.previewFailed': '此文件无法预览',
    'ask.question': '问题',
    'ask.defaultPrompt': '这是什么？',
    'ask.followupPlaceholder': '继续追问同一张照片…',
    'ask.followupPlaceholderText': '继续追问…',
    'ask.promptPlaceholder': '就照片或你的文档提问…',
    'ask.collection': '知识库',
    'ask.options': '选项',
    'ask.mode': '模式',
    'ask.mode.chat': '对话 —— 模型知识加知识库',
    'ask.mode.query': '查询 —— 只用知识库',
    'ask.topk': '引用依据数',
    'ask.lang': '回答语言',
    'ask.lang.auto': '与问题相同',
    'ask.lang.en': '英文 (English)',
    'ask.lang.zh': '中文',
    'ask.submit': '提问',
    'ask.stop': '停止',
    'ask.hint': 'Enter 发送 · Shift+Enter 换行',
    'ask.followupHint': '追问会沿用本对话中的照片。添加新照片即可切换。',
    'ask.needInput': '请先添加照片或输入问题。',
    'ask.dropOverlay': '松开即可就这张照片提问',
    'ask.notImage': '这似乎不是照片，请拖入图片文件。',
    'ask.pasted': '已粘贴照片',
    'ask.documentHint': '这是文档，不是照片。请先在“知识库”页面添加它，再在这里输入问题。',
    'ask.emptyKb': '知识库“{name}”里还没有照片或文档，pyxa 暂时没有可依据的内容。',
    'ask.emptyKbLink': '添加照片或文档',

    'turn.you': '你',
    'turn.pyxa': 'pyxa',
    'turn.thinking': '正在查看照片…',
    'turn.searching': '正在检索知识库…',
    'turn.writing': '正在作答…',
    'turn.stopped': '已停止。',
    'turn.confident': '有把握',
    'turn.unsure': '不太确定',
    'turn.candidates': '候选',
    'turn.noCandidates': '没有候选 —— 知识库可能是空的。',
    'turn.evidence': '依据',
    'turn.noEvidence': '知识库中没有相关内容。',
    'turn.noEvidenceNote': '知识库里没有能回答这个问题的内容。',
    'turn.passage': '第 {n} 段',
    'turn.sourceDoc': '来源 {n}：“{title}”第 {pos} 段，相似度 {score}',
    'turn.sourceText': '来源 {n}：笔记，相似度 {score}',
    'turn.note': '笔记',
    'turn.timings': '耗时',
    'turn.total': '总计',
    'turn.models': '模型',
    'turn.details': '技术细节',
    'turn.source': '来源 {n}：{label}，相似度 {score}',
    'turn.score': '相似度 {score}',
    'turn.failed': '出错了',
    'turn.retry': '重试',
    'turn.photoAlt': '你的照片',
    'turn.evidenceAlt': '依据照片 {n}：{label}',

    'timing.decode': '解码',
    'timing.encode': '编码',
    'timing.retrieve': '检索',
    'timing.candidates': '排序',
    'timing.generate': '生成',
    'timing.translate': '翻译',

    'fb.question': '回答正确吗？',
    'fb.yes': '对，正确',
    'fb.no': '不对',
    'fb.itIs': '不对，它是',
    'fb.placeholder': '输入正确的名称',
    'fb.send': '教给 pyxa',
    'fb.cancel': '取消',
    'fb.quick': '快速选择',
    'fb.sending': '发送中…',
    'fb.learned': '学会了！pyxa 以后会把这张照片认作“{label}”。',
    'fb.learnedItem': '已保存到知识库。',
    'fb.recorded': '谢谢，你的反馈已记录。',
    'fb.thanks': '谢谢确认！',
    'fb.askAgain': '再问一次',
    'fb.emptyLabel': '请先输入或选择正确的名称。',

    'kb.collections': '集合',
    'kb.items': { other: '{n} 个条目' },
    'kb.new': '新建集合',
    'kb.name': '名称',
    'kb.nameHint': '小写字母、数字、- 和 _（最多 64 个字符）。',
    'kb.description': '描述',
    'kb.create': '创建',
    'kb.created': '已创建集合“{name}”',
    'kb.deleteCollection': '删除集合',
    'kb.settings.title': '工作区设置',
    'kb.settings.sub': '决定如何回答关于此集合的问题',
    'kb.settings.mode': '默认模式',
    'kb.settings.mode.chat': '对话',
    'kb.settings.mode.chatHelp': '结合模型自身的知识与此集合。',
    'kb.settings.mode.query': '查询',
    'kb.settings.mode.queryHelp': '只根据此集合回答。',
    'kb.settings.modeHelp': '提问时未选择模式就用它。默认：对话。',
    'kb.settings.systemPrompt': '系统提示词（可选）',
    'kb.settings.systemPromptPlaceholder': 'pyxa 的内置指令',
    'kb.settings.systemPromptHelp': '替换根据此集合回答时的内置指令（最多 4000 个字符）。留空则使用默认值。',
    'kb.settings.temperature': '温度',
    'kb.settings.temperatureHelp': '0–2。越高措辞越多样。默认：0。',
    'kb.settings.topK': '证据条数',
    'kb.settings.topKHelp': '每个问题检索 1–100 张照片、段落或笔记。默认：5。',
    'kb.settings.minSimilarity': '相似度阈值',
    'kb.settings.minSimilarityHelp': '0–1。与问题的相似度低于此值的检索文本不会被使用。默认：0.25。',
    'kb.settings.save': '保存',
    'kb.settings.saved': '设置已保存。',
    'kb.settings.unchanged': '没有更改，无需保存。',
    'kb.settings.badNumber': '请输入数字，或留空以使用默认值。',
    'kb.deleteCollectionConfirm': '删除集合“{name}”及其全部 {count} 个条目（照片和文档段落）？此操作无法撤销。',
    'kb.collectionDeleted': '已删除集合“{name}”',
    'kb.defaultLocked': '默认集合不能删除。',
    'kb.noDescription': '没有描述',
    'kb.add': '添加带标签的照片',
    'kb.addHint': '可一次拖入多张照片。为每张照片填写标签 —— 也就是 pyxa 应当回答的名称。',
    'kb.dropHere': '把照片（文档也可以）拖到这里，或',
    'kb.choose': '选择照片',
    'kb.labelAll': '统一标签',
    'kb.apply': '应用到全部',
    'kb.label': '标签',
    'kb.caption': '说明（可选）',
    'kb.upload': { other: '上传 {n} 张照片' },
    'kb.clear': '清空列表',
    'kb.removeFile': '从列表中移除 {name}',
    'kb.progress': '已上传 {done} / {total}',
    'kb.progressDone': '完成：成功 {ok} 张，失败 {failed} 张',
    'kb.status.queued': '待上传',
    'kb.status.uploading': '上传中…',
    'kb.status.done': '已添加',
    'kb.status.duplicate': '集合中已有这张照片',
    'kb.status.error': '失败',
    'kb.browse': '照片和段落',
    'kb.empty': '这个集合还是空的。请在上方添加带标签的照片或文档。',
    'kb.loadMore': '加载更多',
    'kb.showing': '显示 {shown} / {total}',
    'kb.deleteItem': '删除“{label}”',
    'kb.deleteItemConfirm': '从知识库中删除这张照片（“{label}”）？',
    'kb.itemDeleted': '照片已删除',
    'kb.unlabelled': '（无标签）',
    'kb.search': '搜索',
    'kb.searchPlaceholder': '按文字搜索，例如“猫”',
    'kb.searchPhoto': '以图搜图',
    'kb.searchGo': '搜索',
    'kb.searchClear': '显示全部',
    'kb.searchResults': { other: '{n} 个结果' },
    'kb.searchNone': '没有匹配的结果。',
    'kb.searchingPhoto': '与 {name} 相似的照片',
    'kb.searchingText': '“{q}”的搜索结果',
    'kb.pickCollection': '请在左侧选择一个集合。',
    'kb.added': '添加于 {date}',
    'kb.close': '关闭',
    'kb.unsupported': '{name}：pyxa 只接受照片和 .txt、.md、.html、.pdf 文档。',
    'kb.kind.image': '照片',
    'kb.kind.text': '笔记',
    'kb.kind.image_text': '照片 + 文字',
    'kb.kind.passage': '段落',
    'kb.readText': '阅读“{title}”',

    'kb.doc.title': '文档',
    'kb.doc.hint': '支持 TXT、Markdown、HTML 和 PDF 文件，每个不超过 20 MB。pyxa 会把每份文档切分成段落，回答时可以引用并注明出处。',
    'kb.doc.dropHere': '把文档拖到这里，或',
    'kb.doc.choose': '选择文档',
    'kb.doc.uploads': '文档上传',
    'kb.doc.clearFinished': '清除已完成',
    'kb.doc.empty': '这个集合还没有文档。',
    'kb.doc.count': { other: '{n} 份文档' },
    'kb.doc.passages': { other: '{n} 个段落' },
    'kb.doc.passageN': '第 {n} 段',
    'kb.doc.open': '阅读“{title}”的第 {n} 段',
    'kb.doc.status.queued': '等待中…',
    'kb.doc.status.uploading': '上传中…',
    'kb.doc.status.processing': '处理中：正在切分段落并建立索引…',
    'kb.doc.status.done': { other: '完成：{n} 个段落' },
    'kb.doc.status.duplicate': '集合中已有这份文档',
    'kb.doc.status.error': '失败',
    'kb.doc.status.cancelled': '已取消',
    'kb.doc.progressLabel': '{name} 的上传进度',
    'kb.doc.cancel': '取消上传 {name}',
    'kb.doc.dismiss': '从列表中移除 {name}',
    'kb.doc.otherCollection': '上传到 {name}',
    'kb.doc.summary': '已完成 {done} / {total} 份文档',
    'kb.doc.summaryDone': '完成：新增 {ok} 份，已存在 {dup} 份，失败 {failed} 份',
    'kb.doc.tooLarge': '{name} 超过 20 MB，超出了 pyxa 的上限。',
    'kb.doc.delete': '删除文档“{title}”',
    'kb.doc.deleteConfirm': { other: '从知识库中删除文档“{title}”及其 {n} 个段落？' },
    'kb.doc.deleted': '文档已删除',

    'confirm.title': '确定吗？',
    'confirm.ok': '删除',
    'confirm.cancel': '取消',

    'error.network': '无法连接到 pyxa 服务器。请确认它正在运行，然后重试。',
    'auth.needed': '这个 pyxa 服务器需要 API 密钥。请粘贴你的密钥（pyxa_…）：',
    'auth.invalid': '这个 API 密钥无效（不存在或已吊销）。请粘贴另一个密钥：',
    'error.http': '服务器返回了 {status}。',
    'error.streamEnded': '回答流意外中断。',
    'error.title': '错误',

    'docs.pageTitle': 'pyxa — API 参考',
    'docs.tagline': 'API 参考',
    'docs.backToPortal': 'pyxa — 返回门户',
    'docs.operations': '接口',
    'docs.filter': '筛选接口',
    'docs.filterPlaceholder': '筛选接口…（按 / 键）',
    'docs.countAll': '共 {n} 个接口',
    'docs.countShown': '显示 {n} / {total} 个接口',
    'docs.noMatch': '没有符合筛选条件的接口。',
    'docs.loading': '正在加载 API 描述…',
    'docs.loadError': '无法加载 API 描述：{message}',
    'docs.notOpenApi': '返回的内容不是 OpenAPI 文档',
    'docs.renderError': '无法显示此接口：',
    'docs.download': 'openapi.json',
    'docs.baseUrl': '基础地址',
    'docs.expandAll': '全部展开',
    'docs.collapseAll': '全部收起',
    'docs.untagged': '接口',
    'docs.operationId': '操作 ID',
    'docs.deprecatedOp': '此接口已弃用。',
    'docs.parameters': '参数',
    'docs.requestBody': '请求体',
    'docs.responses': '响应',
    'docs.curl': '请求示例',
    'docs.copy': '复制',
    'docs.copied': '已复制',
    'docs.selected': '已选中',
    'docs.copyFailed': '此处不允许直接复制；命令已选中，请按 Ctrl+C 复制。',
    'docs.col.name': '名称',
    'docs.col.in': '位置',
    'docs.col.type': '类型',
    'docs.col.description': '说明',
    'docs.header': '响应头',
    'docs.contentType': '内容类型',
    'docs.noSchema': '任意内容。',
    'docs.noBody': '无响应体。',
    'docs.required': '必填',
    'docs.deprecated': '已弃用',
    'docs.readOnly': '只读',
    'docs.writeOnly': '只写',
    'docs.allowed': '可选值：',
    'docs.const': '固定值：',
    'docs.default': '默认值：',
    'docs.exampleValue': '示例：',
    'docs.limits': '限制：',
    'docs.pattern': '格式：',
    'docs.mediaType': '媒体类型：',
    'docs.discriminator': '区分字段：',
    'docs.additional': '其他键：',
    'docs.oneOf': '以下恰好一种：',
    'docs.anyOf': '以下任意一种或多种：',
    'docs.variant': '选项 {n}',
    'docs.itemsOf': '每个元素：',
    'docs.valuesOf': '每个值：',
    'docs.propCount': ' · {n} 个字段',
    'docs.recursive': '结构与上文的 {name} 相同（递归）。',

    'time.justNow': '刚刚',
  },
};

function detectLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'zh') return saved;
  } catch { /* storage unavailable */ }
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  return String(langs[0] || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

let current = detectLang();
const listeners = new Set();

export function getLang() { return current; }

/** BCP 47 tag for Intl and the `lang` attribute. */
export function locale() { return current === 'zh' ? 'zh-CN' : 'en'; }

export function setLang(lang, { persist = true } = {}) {
  if (lang !== 'en' && lang !== 'zh') return;
  current = lang;
  if (persist) {
    try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* ignore */ }
  }
  document.documentElement.lang = locale();
  applyI18n(document);
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }

/** Translate `key`, replacing `{name}` with vars.name. `vars.n` selects a plural form. */
export function t(key, vars = {}) {
  let s = STRINGS[current][key];
  if (s === undefined) s = STRINGS.en[key];
  if (s === undefined) return key;
  if (typeof s === 'object') {
    const n = Number(vars.n);
    s = (n === 1 && s.one) ? s.one : s.other;
  }
  return s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined && vars[k] !== null ? String(vars[k]) : m));
}

/** Is `text` one of the default prompts (in any language)? */
export function isDefaultPrompt(text) {
  const v = String(text || '').trim();
  return Object.values(STRINGS).some((s) => s['ask.defaultPrompt'] === v);
}

function readVars(el) {
  const raw = el.getAttribute('data-i18n-vars');
  if (!raw) return {};
  try { return JSON.parse(raw); } catch { return {}; }
}

/** Localise every marked element under `root` (an element or the document). */
export function applyI18n(root = document) {
  const scope = root.querySelectorAll ? root : document;
  const each = (sel, fn) => {
    if (scope.matches && scope.matches(sel)) fn(scope);
    scope.querySelectorAll(sel).forEach(fn);
  };
  each('[data-i18n]', (el) => { el.textContent = t(el.getAttribute('data-i18n'), readVars(el)); });
  each('[data-i18n-placeholder]', (el) => { el.setAttribute('placeholder', t(el.getAttribute('data-i18n-placeholder'), readVars(el))); });
  each('[data-i18n-aria-label]', (el) => { el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria-label'), readVars(el))); });
  each('[data-i18n-title]', (el) => { el.setAttribute('title', t(el.getAttribute('data-i18n-title'), readVars(el))); });
  each('[data-i18n-alt]', (el) => { el.setAttribute('alt', t(el.getAttribute('data-i18n-alt'), readVars(el))); });
  each('[data-label-en]', (el) => {
    const zh = el.getAttribute('data-label-zh');
    el.textContent = current === 'zh' && zh ? zh : el.getAttribute('data-label-en');
  });
  if (scope === document || scope.nodeType === 9) document.title = t('app.title');
}

/** Mark `el` as translated by `key` (with optional vars) and fill it in now. */
export function tr(el, key, vars) {
  el.setAttribute('data-i18n', key);
  if (vars) el.setAttribute('data-i18n-vars', JSON.stringify(vars));
  else el.removeAttribute('data-i18n-vars');
  el.textContent = t(key, vars || {});
  return el;
}

export function formatNumber(n, opts) {
  return new Intl.NumberFormat(locale(), opts).format(n);
}

/** The API's timestamps are Unix seconds; Date wants milliseconds. */
export function toDate(value) {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || /^\d+$/.test(String(value))) {
    const n = Number(value);
    return new Date(n < 1e12 ? n * 1000 : n);
  }
  return new Date(value);
}

export function formatDate(value) {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** "5 minutes ago" / "5 分钟前". */
export function formatRelative(value) {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return '';
  const diff = (d.getTime() - Date.now()) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return t('time.justNow');
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const steps = [[60, 'second'], [3600, 'minute'], [86400, 'hour'], [604800, 'day'], [2629800, 'week'], [31557600, 'month'], [Infinity, 'year']];
  let unitSeconds = 1;
  for (const [limit, unit] of steps) {
    if (abs < limit) return rtf.format(Math.round(diff / unitSeconds), unit);
    unitSeconds = limit;
  }
  return formatDate(d);
}
