"""Small hand-written pools of Chinese names, places and phrases for the demo generators.

Everything here is fake: names are random surname + given-name combinations, phone numbers use the
reserved-looking ``1xx 0000 xxxx`` pattern, e-mail addresses live under ``example.com``. All strings
encode in GBK (the restaurant files are written in GBK).
"""

from __future__ import annotations

import numpy as np

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "上官", "司马", "诸葛")
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳峰建国志文晨轩博睿哲"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪慧颖琳洁倩萍红梅莉兰丹佳悦欣怡璐晶蕾薇嘉雯思涵诗琪梦月"

# Restaurant chain: stores and the city each one is in (a member's city follows their home store).
STORES = (
    ("上海南京西路店", "上海"),
    ("上海徐家汇店", "上海"),
    ("上海五角场店", "上海"),
    ("杭州湖滨店", "杭州"),
    ("杭州西溪店", "杭州"),
    ("苏州观前街店", "苏州"),
    ("南京新街口店", "南京"),
    ("宁波天一店", "宁波"),
)
MEMBER_LEVELS = ("普通会员", "银卡会员", "金卡会员", "钻石会员")
MEMBER_TAGS = (
    "商务宴请", "家庭聚餐", "朋友聚会", "生日宴", "外卖常客", "午餐工作餐",
    "情侣约会", "不吃辣", "带小孩", "素食",
)
CHANNELS = ("堂食", "外卖", "小程序")

# B2B supplier.
REGIONS = {
    "华东": ("上海", "杭州", "苏州", "南京", "宁波", "合肥"),
    "华南": ("广州", "深圳", "东莞", "厦门"),
    "华北": ("北京", "天津", "石家庄", "济南"),
    "华中": ("武汉", "长沙", "郑州"),
    "西南": ("成都", "重庆", "昆明"),
    "西北": ("西安", "兰州"),
    "东北": ("沈阳", "大连", "长春"),
}
INDUSTRIES = (
    "汽车零部件", "电子制造", "医药", "食品饮料", "物流", "建筑工程", "零售", "能源", "机械设备",
    "化工",
)
GOV_INDUSTRY = "公共管理"
GOV_DEPARTMENTS = ("教育局", "卫生健康委员会", "交通运输局", "住房和城乡建设局", "市场监督管理局")
SIZE_BANDS = ("1-49", "50-199", "200-999", "1000-4999", "5000+")
CREDIT_RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B")
ACCOUNT_MANAGERS = (
    "王海燕", "李建国", "张伟", "陈静", "刘洋", "赵敏", "周志强", "孙丽", "Kevin Zhou",
)
DISTRIBUTORS = (
    "华信贸易", "东方供应链", "联创分销", "鼎盛商贸", "Pacific Trade Co.", "川渝物资",
)
COMPANY_WORDS = (
    "华信", "恒通", "宏达", "鑫源", "精工", "远航", "瑞丰", "天成", "中科", "博远", "汇金", "新元",
    "嘉禾", "永盛", "启明", "金桥", "力拓", "海纳", "东升", "卓越",
)
COMPANY_SUFFIX = {
    "汽车零部件": "汽车配件", "电子制造": "电子", "医药": "医药", "食品饮料": "食品",
    "物流": "物流", "建筑工程": "建设工程", "零售": "商业", "能源": "能源", "机械设备": "机械",
    "化工": "化工",
}
EN_WORDS = (
    "Northwind", "Bluepeak", "Silverline", "Redwood", "Harbor", "Summit", "Lakeside", "Evergreen",
)
EN_SUFFIX = ("Industries Ltd.", "Trading Co.", "Technology Ltd.", "Manufacturing Inc.")
SURVEY_COMMENTS = {
    1: ("交期严重延误", "质量问题反复出现", "考虑更换供应商"),
    2: ("价格偏高", "交期延误", "售后响应慢"),
    3: ("整体一般", "沟通还可以", ""),
    4: ("质量稳定", "服务及时", "客户经理很专业", ""),
    5: ("非常满意", "长期合作伙伴", "响应迅速,质量好", ""),
}


def person_names(rng: np.random.Generator, genders: np.ndarray) -> list[str]:
    """Random Chinese personal names; ``genders`` holds '男' / '女' per person."""
    n = len(genders)
    surname_idx = rng.integers(0, len(SURNAMES), n)
    compound = rng.random(n) < 0.01
    two_chars = rng.random(n) < 0.6
    first = rng.random(n)
    second = rng.random(n)
    names = []
    for i in range(n):
        pool = GIVEN_MALE if genders[i] == "男" else GIVEN_FEMALE
        surname = COMPOUND_SURNAMES[surname_idx[i] % 4] if compound[i] else SURNAMES[surname_idx[i]]
        given = pool[int(first[i] * len(pool))]
        if two_chars[i]:
            given += pool[int(second[i] * len(pool))]
        names.append(surname + given)
    return names


def fake_mobiles(rng: np.random.Generator, n: int) -> list[str]:
    """Clearly fake 11-digit mobile numbers: 13x/15x/18x, then ``0000``, then a serial."""
    prefixes = rng.choice(np.array(["13", "15", "18"]), n)
    third = rng.integers(0, 10, n)
    return [f"{prefixes[i]}{third[i]}0000{i % 10000:04d}" for i in range(n)]
